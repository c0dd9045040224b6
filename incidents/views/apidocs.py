"""/api/schema.json, the OpenAPI description of the public endpoints (openapi.py), and /api/, the same as a page."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .. import openapi
from ..http import public_data


@public_data(cors=True)
def api_schema(request):
    return JsonResponse(openapi.schema(request.build_absolute_uri("/")), json_dumps_params={"indent": 1})


@public_data
def api_docs(request):
    described = openapi.schema(request.build_absolute_uri("/"))
    endpoints = [_endpoint(path, item["get"], described) for path, item in described["paths"].items()]
    filters = next(e["filters"] for e in endpoints if e["filters"])
    context = {"info": described["info"], "endpoints": endpoints, "filters": filters}
    return render(request, "incidents/api.html", context)


def _endpoint(path, operation, described):
    parameters = [_parameter(p, described) for p in operation.get("parameters", [])]
    ok = operation["responses"]["200"]["content"]
    return {
        "path": path,
        "id": operation["operationId"],
        "summary": operation["summary"],
        "description": operation["description"],
        "filters": [p for p in parameters if p["shared"]],
        "parameters": [p for p in parameters if not p["shared"]],
        "types": list(ok),
    }


def _parameter(parameter, described):
    """(name, what it takes, description); `shared` for the filters every endpoint takes."""
    shared = "$ref" in parameter
    if shared:
        parameter = described["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
    value = parameter["schema"]
    repeatable = value["type"] == "array"
    return {
        "name": parameter["name"],
        "takes": takes(value["items"] if repeatable else value),
        "repeatable": repeatable,
        "description": parameter["description"],
        "required": parameter.get("required", False),
        "shared": shared,
    }


def takes(value):
    """A parameter's values in a few words: "a | b | c", "date", "1 to 1000", a pattern."""
    if "enum" in value:
        return " | ".join(value["enum"])
    if "pattern" in value:
        return value["pattern"].strip("^$")
    if "minimum" in value:
        return _("%(minimum)s to %(maximum)s") % {"minimum": value["minimum"], "maximum": value["maximum"]}
    return value.get("format", value["type"])
