"""The demo data set: real courthouse buildings, synthetic incidents, real policy events.

The two 2017 incidents below are the ones the press reported in detail; every
other incident is synthetic. Every demo row is flagged `is_demo`, so pages can
label the data as demo and `load_demo_data --clear` can remove it.
"""

import datetime

# name, street address, city, county FIPS, weight, first year with incidents.
# The court type follows the name (models.court_type_from_name): the immigration
# courts' incidents start in 2025, when the tracker began recording them.
COURTHOUSES = [
    ("Brooklyn Criminal Court", "120 Schermerhorn Street", "Brooklyn", "36047", 6, 2017),
    ("Kings County Supreme Court", "360 Adams Street", "Brooklyn", "36047", 3, 2017),
    ("Manhattan Criminal Court", "100 Centre Street", "New York", "36061", 5, 2017),
    ("Bronx Hall of Justice", "265 East 161st Street", "Bronx", "36005", 4, 2017),
    ("Queens Criminal Court", "125-01 Queens Boulevard", "Kew Gardens", "36081", 4, 2017),
    ("Richmond County Supreme Court", "26 Central Avenue", "Staten Island", "36085", 1, 2017),
    ("Nassau County District Court", "99 Main Street", "Hempstead", "36059", 2, 2017),
    ("Albany City Court", "1 Morton Avenue", "Albany", "36001", 1, 2017),
    ("26 Federal Plaza Immigration Court", "26 Federal Plaza", "New York", "36061", 9, 2025),
    ("Varick Street Immigration Court", "201 Varick Street", "New York", "36061", 3, 2025),
    (
        "Clara Shortridge Foltz Criminal Justice Center",
        "210 West Temple Street",
        "Los Angeles",
        "06037",
        4,
        2017,
    ),
    ("Stanley Mosk Courthouse", "111 North Hill Street", "Los Angeles", "06037", 2, 2017),
    ("Los Angeles Immigration Court", "606 South Olive Street", "Los Angeles", "06037", 6, 2025),
    ("San Francisco Hall of Justice", "850 Bryant Street", "San Francisco", "06075", 2, 2017),
    ("San Francisco Immigration Court", "100 Montgomery Street", "San Francisco", "06075", 5, 2025),
    ("Sacramento County Courthouse", "720 9th Street", "Sacramento", "06067", 2, 2017),
    ("San Diego Hall of Justice", "330 West Broadway", "San Diego", "06073", 2, 2017),
    ("San Diego Immigration Court", "401 West A Street", "San Diego", "06073", 4, 2025),
    ("Fresno County Superior Court", "1100 Van Ness Avenue", "Fresno", "06019", 2, 2017),
    ("Multnomah County Central Courthouse", "1200 SW 1st Avenue", "Portland", "41051", 4, 2017),
    ("Washington County Courthouse", "145 NE 2nd Avenue", "Hillsboro", "41067", 2, 2017),
    ("Marion County Courthouse", "100 High Street NE", "Salem", "41047", 2, 2017),
    ("Portland Immigration Court", "1220 SW 3rd Avenue", "Portland", "41051", 3, 2025),
    ("El Paso County Courthouse", "500 East San Antonio Avenue", "El Paso", "48141", 4, 2017),
    ("Harris County Criminal Justice Center", "1201 Franklin Street", "Houston", "48201", 4, 2017),
    ("Blackwell-Thurman Criminal Justice Center", "509 West 11th Street", "Austin", "48453", 2, 2017),
    ("Bexar County Courthouse", "100 Dolorosa Street", "San Antonio", "48029", 2, 2017),
    ("Dallas Immigration Court", "1201 Elm Street", "Dallas", "48113", 4, 2025),
    ("Houston Immigration Court", "600 Jefferson Street", "Houston", "48201", 5, 2025),
    ("San Antonio Immigration Court", "800 Dolorosa Street", "San Antonio", "48029", 3, 2025),
    ("King County Courthouse", "516 3rd Avenue", "Seattle", "53033", 3, 2017),
    ("Seattle Immigration Court", "1000 2nd Avenue", "Seattle", "53033", 3, 2025),
    ("Yakima County Courthouse", "128 North 2nd Street", "Yakima", "53077", 1, 2017),
    ("Passaic County Courthouse", "77 Hamilton Street", "Paterson", "34031", 2, 2017),
    ("Middlesex County Courthouse", "56 Paterson Street", "New Brunswick", "34023", 2, 2017),
    ("Newark Immigration Court", "970 Broad Street", "Newark", "34013", 4, 2025),
    ("Leighton Criminal Court Building", "2650 South California Avenue", "Chicago", "17031", 3, 2017),
    ("Chicago Immigration Court", "55 East Monroe Street", "Chicago", "17031", 4, 2025),
    ("Lindsey-Flanigan Courthouse", "520 West Colfax Avenue", "Denver", "08031", 2, 2017),
    ("Denver Immigration Court", "1961 Stout Street", "Denver", "08031", 3, 2025),
    ("Edward W. Brooke Courthouse", "24 New Chardon Street", "Boston", "25025", 2, 2017),
    ("Newton District Court", "1309 Washington Street", "Newton", "25017", 1, 2017),
    ("Phoenix Immigration Court", "2035 North Central Avenue", "Phoenix", "04013", 3, 2025),
]

# The two incidents the 2017 press reported in detail (no names: none are stored).
REPORTED_2017 = [
    dict(
        reference="DEMO-2017-BKLYN-1128",
        courthouse="Brooklyn Criminal Court",
        date=datetime.date(2017, 11, 28),
        case_type="criminal",
        outcome="arrested",
        people_count=1,
        person_role="defendant",
        location="entrance",
        agency="ice",
        plain_clothes="yes",
        agents_identified="unknown",
        force_used="unknown",
        court_staff_assisted="unknown",
        warrant="administrative",
        verification="verified",
        source_type="news",
        summary=(
            "A defendant in a domestic-violence case was arrested by ICE agents on arriving at "
            "court; his attorney was kept from him."
        ),
    ),
    dict(
        reference="DEMO-2017-ELPASO-0209",
        courthouse="El Paso County Courthouse",
        date=datetime.date(2017, 2, 9),
        case_type="family",
        outcome="arrested",
        people_count=1,
        person_role="victim",
        location="inside",
        agency="ice",
        plain_clothes="unknown",
        agents_identified="unknown",
        force_used="unknown",
        court_staff_assisted="unknown",
        warrant="unknown",
        verification="verified",
        source_type="news",
        summary=(
            "A woman who had come to court to seek a protective order against her abuser was "
            "detained by ICE agents after the hearing."
        ),
    ),
]

# date, state (None: federal), title, URL
POLICY_EVENTS = [
    (
        datetime.date(2018, 1, 10),
        None,
        "ICE directive 11072.1 on civil immigration enforcement inside courthouses",
        "https://www.ice.gov/doclib/news/releases/2018/ciEnforcementActionsCourthouses.pdf",
    ),
    (
        datetime.date(2019, 4, 17),
        "NY",
        "New York courts require a judicial warrant for civil arrests in courthouses",
        "",
    ),
    (
        datetime.date(2021, 4, 27),
        None,
        "ICE and CBP memo limiting civil immigration enforcement in or near courthouses",
        "",
    ),
    (
        datetime.date(2025, 1, 21),
        None,
        "ICE interim guidance permitting courthouse enforcement actions",
        "",
    ),
]
