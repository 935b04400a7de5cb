"""JSON Schema of a rule file, checked when the rules are loaded (a mistake names file, rule and key)."""

from __future__ import annotations

from typing import Any

_ON: dict[str, Any] = {
    "description": "Columns joining the two tables: one name, a list, or {rule table column: other table column}.",
    "oneOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
        {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 1},
    ],
}

_RELATED: dict[str, Any] = {
    "type": "object",
    "required": ["table"],
    "additionalProperties": False,
    "properties": {
        "table": {"type": "string", "description": "The related table, e.g. Episodes or Episodes@previous."},
        "as": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "description": "Alias for its fields."},
        "on": _ON,
        "where": {"type": "string", "description": "Expression a related record must satisfy."},
        "exclude_self": {"type": "boolean", "description": "Skip the record itself (same table only)."},
        "optional": {
            "type": "boolean",
            "description": "Run even when this table was not supplied, treating it as having no records.",
        },
        "value": {"type": "string", "description": "Expression aggregated by min / max / sum."},
        "start": {"type": "string", "description": "covered: the date each related record's period starts."},
        "end": {"type": "string", "description": "covered: the date it ends (the day itself not counted)."},
    },
}

_HISTORY: dict[str, Any] = {
    "description": "The care history a finding rests on; findings needing years not supplied are unconfirmed.",
    "type": "object",
    "required": ["table", "from"],
    "additionalProperties": False,
    "properties": {
        "table": {"type": "string", "description": "The table whose earlier years matter, e.g. Episodes."},
        "from": {"type": "string", "description": "The date from which the finding needs that history."},
        "when": {"type": "string", "description": "Only findings for which this is true rest on the history."},
    },
}

_CONDITION: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "all": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1},
                "any": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1},
                "not": {"$ref": "#/$defs/condition"},
                "exists": {"$ref": "#/$defs/related"},
                "none": {"$ref": "#/$defs/related"},
            },
        },
    ]
}

_LET: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {k: {"$ref": "#/$defs/related"} for k in ("count", "exists", "min", "max", "sum", "covered")},
}

_EXAMPLE: dict[str, Any] = {
    "type": "object",
    "required": ["expect", "tables"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "expect": {"enum": ["pass", "fail"]},
        "year": {"type": "string"},
        "context": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"la": {"type": "string"}, "reference_date": {"type": "string"}},
        },
        "tables": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": {"type": ["string", "number", "null"]}},
            },
        },
        "absent": {"type": "array", "items": {"type": "string"}},
        "postcodes": {
            "description": "ONS postcode data for the example: postcode, ltla (lower-tier LA), easting, northing.",
            "type": "array",
            "items": {
                "type": "object",
                "required": ["postcode", "ltla", "easting", "northing"],
                "additionalProperties": False,
                "properties": {
                    "postcode": {"type": "string"},
                    "ltla": {"type": "string"},
                    "easting": {"type": "number"},
                    "northing": {"type": "number"},
                    "country": {"type": "string"},
                },
            },
        },
        "flagged": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "unconfirmed": {
            "description": "Rows whose findings are unconfirmed (rest on history not given); others confirmed.",
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
        },
    },
}

DIVERGENCE: dict[str, Any] = {
    "type": "object",
    "required": ["reference", "ours", "why", "example"],
    "additionalProperties": False,
    "properties": {
        "reference": {"type": "string", "description": "What the reference implementation does."},
        "ours": {"type": "string", "description": "What this rule does instead."},
        "why": {"type": "string", "description": "Why: normally DfE's rule text says so."},
        "example": {"type": "string", "description": "Name of the example that shows the difference."},
    },
}

RULE: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "severity", "level", "table", "fields", "years", "condition", "examples"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9]+$"},
        "message": {"type": "string", "minLength": 1},
        "severity": {"enum": ["error", "query"]},
        "level": {"enum": ["record", "child", "return"]},
        "table": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "string"}},
        "years": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
        "description": {"type": "string"},
        "notes": {"type": "string"},
        "divergence": {
            "description": "Where this rule deliberately differs from the community reference implementation: "
            "one block, or a list of blocks for several separate differences.",
            "oneOf": [
                {"$ref": "#/$defs/divergence"},
                {"type": "array", "items": {"$ref": "#/$defs/divergence"}, "minItems": 1},
            ],
        },
        "join": {"type": "object", "additionalProperties": {"$ref": "#/$defs/related"}},
        "let": {"type": "object", "additionalProperties": {"$ref": "#/$defs/let"}},
        "sequence": {
            "type": "object",
            "additionalProperties": False,
            "required": ["order"],
            "properties": {
                "by": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                "order": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "run": {
                    "type": "string",
                    "description": "True when a record continues the run of the record before it (runs).",
                },
            },
        },
        "condition": {"$ref": "#/$defs/condition"},
        "history": _HISTORY,
        "examples": {"type": "array", "items": {"$ref": "#/$defs/example"}, "minItems": 2},
    },
}

RULE_FILE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["rules"],
    "additionalProperties": False,
    "properties": {"rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}}},
    "$defs": {
        "rule": RULE,
        "condition": _CONDITION,
        "related": _RELATED,
        "let": _LET,
        "example": _EXAMPLE,
        "divergence": DIVERGENCE,
    },
}


# rules/<return>/file_divergences.yaml: differences from the reference that lie outside any one rule's logic (how
# it reads the files, or data its rules share), each naming the rules whose findings it changes.
FILE_DIVERGENCES: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["divergences"],
    "additionalProperties": False,
    "properties": {
        "divergences": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "codes", "reference", "ours", "why", "example"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
                    "codes": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "reference": {"type": "string"},
                    "ours": {"type": "string"},
                    "why": {"type": "string"},
                    "example": {
                        "description": "A rule example (rule code and example name) or a test (path::name) that "
                        "shows what we do.",
                        "oneOf": [
                            {
                                "type": "object",
                                "required": ["rule", "name"],
                                "additionalProperties": False,
                                "properties": {"rule": {"type": "string"}, "name": {"type": "string"}},
                            },
                            {
                                "type": "object",
                                "required": ["test"],
                                "additionalProperties": False,
                                "properties": {"test": {"type": "string", "pattern": "^tests/[^:]+\\.py::test_\\w+$"}},
                            },
                        ],
                    },
                },
            },
        }
    },
}
