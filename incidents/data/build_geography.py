#!/usr/bin/env python3
"""Build incidents/data/states.csv and incidents/data/counties.csv.

Documentation / reproducibility script only: the app never imports it.
Standard library only.

Usage:
    pip install --target /tmp/pgeo plotly-geo==1.0.0
    python incidents/data/build_geography.py /tmp/pgeo/_plotly_geo/package_data

The argument is the plotly-geo directory holding the Census cartographic
boundary files; it may also be the --target directory itself (the script
then looks in <dir>/_plotly_geo/package_data).  By default the CSVs are
written next to this script; use --out DIR to write elsewhere.

Sources read (all dBase III .dbf attribute tables of the shapefiles):
  * cb_2016_us_county_500k.dbf  -> counties.csv (the data; UTF-8 text)
  * cb_2016_us_state_500k.dbf   -> cross-check of the hard-coded state rows
  * gz_2010_us_050_00_500k.dbf  -> cross-check of the LSAD suffix mapping
                                   (2010 file spells LSAD as text; latin-1)
"""

import argparse
import csv
import os
import struct
import sys

# --------------------------------------------------------------------------
# States, DC, Puerto Rico and the inhabited territories: (usps, fips, name).
# UM (U.S. Minor Outlying Islands, 74) is deliberately left out: the Census
# county file has no county-equivalents for it.
STATES = [
    ("AL", "01", "Alabama"),
    ("AK", "02", "Alaska"),
    ("AZ", "04", "Arizona"),
    ("AR", "05", "Arkansas"),
    ("CA", "06", "California"),
    ("CO", "08", "Colorado"),
    ("CT", "09", "Connecticut"),
    ("DE", "10", "Delaware"),
    ("DC", "11", "District of Columbia"),
    ("FL", "12", "Florida"),
    ("GA", "13", "Georgia"),
    ("HI", "15", "Hawaii"),
    ("ID", "16", "Idaho"),
    ("IL", "17", "Illinois"),
    ("IN", "18", "Indiana"),
    ("IA", "19", "Iowa"),
    ("KS", "20", "Kansas"),
    ("KY", "21", "Kentucky"),
    ("LA", "22", "Louisiana"),
    ("ME", "23", "Maine"),
    ("MD", "24", "Maryland"),
    ("MA", "25", "Massachusetts"),
    ("MI", "26", "Michigan"),
    ("MN", "27", "Minnesota"),
    ("MS", "28", "Mississippi"),
    ("MO", "29", "Missouri"),
    ("MT", "30", "Montana"),
    ("NE", "31", "Nebraska"),
    ("NV", "32", "Nevada"),
    ("NH", "33", "New Hampshire"),
    ("NJ", "34", "New Jersey"),
    ("NM", "35", "New Mexico"),
    ("NY", "36", "New York"),
    ("NC", "37", "North Carolina"),
    ("ND", "38", "North Dakota"),
    ("OH", "39", "Ohio"),
    ("OK", "40", "Oklahoma"),
    ("OR", "41", "Oregon"),
    ("PA", "42", "Pennsylvania"),
    ("RI", "44", "Rhode Island"),
    ("SC", "45", "South Carolina"),
    ("SD", "46", "South Dakota"),
    ("TN", "47", "Tennessee"),
    ("TX", "48", "Texas"),
    ("UT", "49", "Utah"),
    ("VT", "50", "Vermont"),
    ("VA", "51", "Virginia"),
    ("WA", "53", "Washington"),
    ("WV", "54", "West Virginia"),
    ("WI", "55", "Wisconsin"),
    ("WY", "56", "Wyoming"),
    ("AS", "60", "American Samoa"),
    ("GU", "66", "Guam"),
    ("MP", "69", "Northern Mariana Islands"),
    ("PR", "72", "Puerto Rico"),
    ("VI", "78", "U.S. Virgin Islands"),
]

# Where our short/common name intentionally differs from the Census NAME.
STATE_NAME_OVERRIDES = {
    "69": "Commonwealth of the Northern Mariana Islands",
    "78": "United States Virgin Islands",
}

# Census LSAD code (cb_* files) -> suffix appended to NAME to get the full
# legal name (what TIGER calls NAMELSAD).  "" = NAME already is the full name.
LSAD_SUFFIX = {
    "00": "",                  # DC, Carson City, Guam, Rose/Swains Island (AS)
    "03": "City and Borough",  # AK
    "04": "Borough",           # AK
    "05": "Census Area",       # AK
    "06": "County",
    "07": "District",          # AS
    "10": "Island",            # VI
    "12": "Municipality",      # AK (Anchorage, Skagway), MP
    "13": "Municipio",         # PR
    "15": "Parish",            # LA
    "25": "city",              # independent cities (VA, Baltimore, St. Louis)
}

# gz_2010 LSAD text -> suffix (used only for the cross-check).
LSAD2010_SUFFIX = {
    "": "",
    "Cty&Bor": "City and Borough",
    "Borough": "Borough",
    "CA": "Census Area",
    "County": "County",
    "Muny": "Municipality",
    "Muno": "Municipio",
    "Parish": "Parish",
    "city": "city",
}

# Known, expected differences between the 2010 and 2016 vintages.
EXPECTED_2010_DIFFS = {
    "02158": "Wade Hampton Census Area renamed Kusilvak Census Area (2015)",
    "02270": "Wade Hampton Census Area code 02270 replaced by 02158 (2015)",
    "02195": "Petersburg Census Area became Petersburg Borough (2013)",
    "22059": "Census spelling La Salle Parish -> LaSalle Parish",
    "46102": "Shannon County renamed Oglala Lakota County, new code (2015)",
    "46113": "Shannon County code 46113 replaced by 46102 (2015)",
    "51515": "Bedford city merged into Bedford County (2013)",
}


def read_dbf(path, encoding):
    """Minimal dBase III reader: returns a list of {field: str} dicts."""
    with open(path, "rb") as f:
        data = f.read()
    nrec, header_len, rec_len = struct.unpack("<IHH", data[4:12])
    fields = []
    off = 32
    while data[off] != 0x0D:
        desc = data[off:off + 32]
        name = desc[:11].split(b"\0", 1)[0].decode("ascii")
        fields.append((name, desc[16]))  # (name, byte length)
        off += 32
    records = []
    for i in range(nrec):
        start = header_len + i * rec_len
        rec = data[start:start + rec_len]
        if rec[:1] == b"*":  # deleted record
            continue
        pos = 1
        row = {}
        for name, length in fields:
            row[name] = rec[pos:pos + length].decode(encoding).strip()
            pos += length
        records.append(row)
    return records


def full_name(name, suffix):
    return f"{name} {suffix}" if suffix else name


def build_counties(pkg_dir):
    rows = read_dbf(os.path.join(pkg_dir, "cb_2016_us_county_500k.dbf"), "utf-8")
    counties = {}
    for r in rows:
        fips = r["GEOID"]
        if fips != r["STATEFP"] + r["COUNTYFP"] or len(fips) != 5:
            raise SystemExit(f"bad GEOID {fips!r}")
        if r["LSAD"] not in LSAD_SUFFIX:
            raise SystemExit(f"unknown LSAD code {r['LSAD']!r} for {fips}")
        if fips in counties:
            raise SystemExit(f"duplicate fips {fips}")
        counties[fips] = (full_name(r["NAME"], LSAD_SUFFIX[r["LSAD"]]), r["STATEFP"])
    return counties


def check_states(pkg_dir):
    path = os.path.join(pkg_dir, "cb_2016_us_state_500k.dbf")
    census = {r["STATEFP"]: (r["STUSPS"], r["NAME"]) for r in read_dbf(path, "utf-8")}
    ours = {fips: (usps, name) for usps, fips, name in STATES}
    if set(census) != set(ours):
        raise SystemExit(f"state sets differ: {sorted(set(census) ^ set(ours))}")
    for fips, (usps, name) in ours.items():
        c_usps, c_name = census[fips]
        if c_usps != usps or c_name != STATE_NAME_OVERRIDES.get(fips, name):
            raise SystemExit(f"state {fips}: ours {usps} {name!r}, census {c_usps} {c_name!r}")


def check_against_2010(pkg_dir, counties):
    path = os.path.join(pkg_dir, "gz_2010_us_050_00_500k.dbf")
    if not os.path.exists(path):
        print("note: gz_2010 file absent, suffix cross-check skipped", file=sys.stderr)
        return
    old = {}
    for r in read_dbf(path, "latin-1"):
        old[r["STATE"] + r["COUNTY"]] = full_name(r["NAME"], LSAD2010_SUFFIX[r["LSAD"]])
    unexpected = []
    for fips in sorted(set(old) | set(counties)):
        new_name = counties.get(fips, (None,))[0]
        old_name = old.get(fips)
        if new_name == old_name or fips[:2] in ("60", "66", "69", "78"):
            continue  # territories are not in the 2010 file
        msg = f"{fips}: 2010 {old_name!r} -> 2016 {new_name!r}"
        if fips in EXPECTED_2010_DIFFS:
            print(f"expected diff  {msg}  ({EXPECTED_2010_DIFFS[fips]})", file=sys.stderr)
        else:
            unexpected.append(msg)
    if unexpected:
        raise SystemExit("unexpected 2010/2016 differences:\n" + "\n".join(unexpected))


def validate(counties):
    state_fips = {fips for _, fips, _ in STATES}
    assert len(STATES) == 56 and len(state_fips) == 56
    assert len({u for u, _, _ in STATES}) == 56
    missing = {s for _, s in counties.values()} - state_fips
    assert not missing, f"county state_fips not in states: {missing}"
    assert state_fips <= {s for _, s in counties.values()}, "state without counties"
    for fips, (name, st) in counties.items():
        assert fips[:2] == st and fips.isdigit() and len(fips) == 5
    expect = {
        "36047": "Kings County",
        "22071": "Orleans Parish",
        "02020": "Anchorage Municipality",
        "72001": "Adjuntas Municipio",
        "72011": "Añasco Municipio",
        "35013": "Doña Ana County",
        "02110": "Juneau City and Borough",
        "24510": "Baltimore city",
        "24005": "Baltimore County",
        "29510": "St. Louis city",
        "32510": "Carson City",
        "02180": "Nome Census Area",
        "11001": "District of Columbia",
        "78010": "St. Croix Island",
        "60010": "Eastern District",
        "66010": "Guam",
        "69110": "Saipan Municipality",
    }
    for fips, name in expect.items():
        assert counties[fips][0] == name, (fips, counties[fips], name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("plotly_geo_dir")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()

    pkg_dir = args.plotly_geo_dir
    nested = os.path.join(pkg_dir, "_plotly_geo", "package_data")
    if os.path.isdir(nested):
        pkg_dir = nested

    check_states(pkg_dir)
    counties = build_counties(pkg_dir)
    check_against_2010(pkg_dir, counties)
    validate(counties)

    with open(os.path.join(args.out, "states.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["usps", "fips", "name"])
        for usps, fips, name in sorted(STATES, key=lambda s: s[1]):
            w.writerow([usps, fips, name])

    with open(os.path.join(args.out, "counties.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["fips", "name", "state_fips"])
        for fips in sorted(counties):
            name, st = counties[fips]
            w.writerow([fips, name, st])

    print(f"wrote {len(STATES)} states and {len(counties)} counties to {args.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
