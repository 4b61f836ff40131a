"""The OpenAPI 3.1 description of the API, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from functools import lru_cache


def _problem(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _json(ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}, "description": "printer name"}
_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"}}
_ACCEPTED = {
    "202": _json("#/components/schemas/Job", "accepted: stored durably, queued"),
    "200": _json("#/components/schemas/Job", "the job an earlier request with this Idempotency-Key made"),
    "401": _problem("token missing or wrong"),
    "404": _problem("unknown printer"),
}
_SUBMISSION_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Submission"}},
        "text/plain": {"schema": {"type": "string"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "application/vnd.escpos": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    },
}
#: the receipt designer's examples: a list of {name, title, template}, or one {name, title, document, data?}
_EXAMPLE = {"200": {"description": "the examples, or one"}, "404": _problem("unknown example")}
_EXAMPLE_NAME = {**_NAME, "description": "example name"}
#: how an application/pdf body prints (the pdf block's options, receipt.schema.json)
_PDF_QUERY = [
    {"name": "pages", "in": "query", "schema": {"type": "string"}, "description": "e.g. 1-3,5,8- (default all)"},
    {"name": "scale", "in": "query", "schema": {"type": "string"}, "description": "fit, actual or a percentage"},
    {"name": "dither", "in": "query", "schema": {"enum": ["floyd-steinberg", "threshold"]}},
    {"name": "threshold", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 255}},
    {"name": "cut", "in": "query", "schema": {"enum": ["partial", "full", "none"]}, "description": "after each page"},
]


@lru_cache(maxsize=1)
def openapi() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "escpos809 print service",
            "version": "1",
            "description": "Durable print queue for OCOM OCPP-809 receipt printers.",
        },
        "servers": [{"url": "/"}],
        "security": [{}, {"bearer": []}],
        "paths": {
            "/api/v1/printers": {
                "get": {
                    "summary": "Printers with status and queue length",
                    "responses": {"200": _json("#/components/schemas/PrinterList", "the configured printers")},
                }
            },
            "/api/v1/printers/{name}": {
                "get": {
                    "summary": "One printer",
                    "parameters": [_NAME],
                    "responses": {
                        "200": _json("#/components/schemas/Printer", "the printer"),
                        "404": _problem("unknown printer"),
                    },
                }
            },
            "/api/v1/printers/{name}/jobs": {
                "post": {
                    "summary": "Submit a job: a receipt document, text, an image, a PDF or raw ESC/POS",
                    "parameters": [
                        _NAME,
                        *_PDF_QUERY,
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 200},
                            "description": "the same key with the same request returns the first job "
                            "(it never prints twice); with another request: 422",
                        },
                    ],
                    "requestBody": _SUBMISSION_BODY,
                    "responses": {
                        **_ACCEPTED,
                        "400": _problem(
                            "malformed JSON, or JSON beyond the limits (nesting, "
                            "number length, values, lone surrogates); an empty body; "
                            "both Content-Length and Transfer-Encoding: chunked"
                        ),
                        "411": _problem("neither a Content-Length nor a chunked body"),
                        "413": _problem("body too large"),
                        "415": _problem("unsupported content type"),
                        "422": _problem(
                            "the job is invalid (errors carry JSON paths), or the "
                            "Idempotency-Key was used for another request"
                        ),
                        "503": _problem("the job database could not store the job; try again"),
                    },
                }
            },
            "/api/v1/printers/{name}/test": {
                "post": {"summary": "Queue a test print", "parameters": [_NAME], "responses": _ACCEPTED}
            },
            "/api/v1/printers/{name}/beep": {
                "post": {"summary": "Queue a beep", "parameters": [_NAME], "responses": _ACCEPTED}
            },
            "/api/v1/printers/{name}/cut": {
                "post": {"summary": "Queue a feed and cut", "parameters": [_NAME], "responses": _ACCEPTED}
            },
            "/api/v1/jobs": {
                "get": {
                    "summary": "Jobs, newest first, a page at a time",
                    "parameters": [
                        {"name": "printer", "in": "query", "schema": {"type": "string"}},
                        {"name": "state", "in": "query", "schema": {"$ref": "#/components/schemas/State"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                        {
                            "name": "before",
                            "in": "query",
                            "schema": {"type": "integer"},
                            "description": "cursor from the previous page's next link",
                        },
                    ],
                    "responses": {
                        "200": _json("#/components/schemas/JobList", "a page of jobs"),
                        "400": _problem("bad query"),
                    },
                }
            },
            "/api/v1/jobs/{job_id}": {
                "get": {
                    "summary": "One job",
                    "parameters": [_JOB_ID],
                    "responses": {"200": _json("#/components/schemas/Job", "the job"), "404": _problem("unknown job")},
                },
                "delete": {
                    "summary": "Cancel a queued or held job",
                    "parameters": [_JOB_ID],
                    "responses": {
                        "200": _json("#/components/schemas/Job", "cancelled"),
                        "404": _problem("unknown job"),
                        "409": _problem("already printing or finished"),
                    },
                },
            },
            "/api/v1/jobs/{job_id}/cancel": {
                "post": {
                    "summary": "Cancel (same as DELETE)",
                    "parameters": [_JOB_ID],
                    "responses": {
                        "200": _json("#/components/schemas/Job", "cancelled"),
                        "409": _problem("not cancellable"),
                    },
                }
            },
            "/api/v1/jobs/{job_id}/release": {
                "post": {
                    "summary": "Release a job held after a restart",
                    "parameters": [_JOB_ID],
                    "responses": {"200": _json("#/components/schemas/Job", "queued"), "409": _problem("not held")},
                }
            },
            "/api/v1/jobs/{job_id}/preview.png": {
                "get": {
                    "summary": "The job as the virtual printer prints it",
                    "parameters": [_JOB_ID],
                    "responses": {
                        "200": {"description": "PNG", "content": {"image/png": {}}},
                        "404": _problem("unknown job"),
                        "422": _problem("nothing to preview, or longer than a preview draws (50,000 dots)"),
                    },
                }
            },
            "/api/v1/preview": {
                "post": {
                    "summary": "Render a submission to PNG without printing",
                    "parameters": _PDF_QUERY,
                    "requestBody": _SUBMISSION_BODY,
                    "responses": {
                        "200": {"description": "PNG", "content": {"image/png": {}}},
                        "422": _problem("invalid job, or longer than a preview draws (50,000 dots)"),
                    },
                }
            },
            "/api/v1/examples": {"get": {"summary": "Receipts to start from", "responses": _EXAMPLE}},
            "/api/v1/examples/{name}": {
                "get": {"summary": "One example", "parameters": [_EXAMPLE_NAME], "responses": _EXAMPLE}
            },
            "/api/v1/ocpp/frames": {
                "post": {
                    "summary": "Feed OCPP-J frames; finished charging sessions print a receipt",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/OcppFrame"},
                                        {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/OcppFrame"},
                                            "maxItems": 1000,
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "202": {"description": "one frame taken"},
                        "200": {"description": "an array: a result per frame"},
                        "400": _problem("malformed JSON, or JSON beyond the limits"),
                        "415": _problem("not JSON"),
                        "422": _problem("the frame was refused; detail says why"),
                    },
                }
            },
            "/api/v1/ocpp/sessions": {
                "get": {
                    "summary": "Charging sessions and their receipts",
                    "description": "The sessions in memory (open, waiting, failed) and the latest "
                    "1,000 printed ones from the database",
                    "responses": {"200": {"description": "sessions"}},
                }
            },
            "/api/v1/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI"}}}
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness: database writable, workers running",
                    "security": [{}],
                    "responses": {"200": {"description": "healthy"}, "503": {"description": "unhealthy"}},
                }
            },
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text"}}}},
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "required when the service listens beyond loopback",
                }
            },
            "schemas": {
                "OcppFrame": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["cp", "dir", "frame"],
                            "properties": {
                                "cp": {"type": "string"},
                                "dir": {"enum": ["cp->csms", "csms->cp", "cs->csms", "csms->cs"]},
                                "frame": {"type": "array"},
                                "ts": {"type": "number"},
                                "version": {"enum": ["1.6", "2.0.1", "2.1"]},
                            },
                        },
                        {
                            "type": "object",
                            "description": "a CitrineOS subscription webhook body",
                            "required": ["stationId", "event"],
                            "properties": {
                                "stationId": {"type": "string"},
                                "event": {"enum": ["message", "connected", "closed"]},
                                "origin": {"enum": ["cs", "csms"]},
                                "message": {"type": "string"},
                            },
                        },
                    ]
                },
                "State": {"enum": ["queued", "printing", "done", "failed", "held", "cancelled"]},
                "Submission": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["type", "document"],
                            "properties": {
                                "type": {"const": "receipt"},
                                "document": {
                                    "type": "object",
                                    "description": "a receipt document (receipt.schema.json)",
                                },
                                "data": {"type": "object", "description": "fills {fields} of a template document"},
                            },
                        },
                        {
                            "type": "object",
                            "required": ["type", "text"],
                            "properties": {
                                "type": {"const": "text"},
                                "text": {"type": "string"},
                                "cut": {"type": "boolean"},
                            },
                        },
                        {
                            "type": "object",
                            "required": ["type", "image"],
                            "properties": {
                                "type": {"const": "image"},
                                "image": {"type": "string", "contentEncoding": "base64"},
                                "width": {"type": "integer"},
                                "dither": {"enum": ["floyd-steinberg", "threshold"]},
                                "threshold": {"type": "integer"},
                            },
                        },
                        {
                            "type": "object",
                            "required": ["type", "pdf"],
                            "properties": {
                                "type": {"const": "pdf"},
                                "pdf": {"type": "string", "contentEncoding": "base64"},
                                "pages": {"type": "string"},
                                "scale": {"oneOf": [{"enum": ["fit", "actual"]}, {"type": "integer"}]},
                                "dither": {"enum": ["floyd-steinberg", "threshold"]},
                                "threshold": {"type": "integer"},
                                "cut": {"enum": ["partial", "full", "none"]},
                            },
                        },
                        {
                            "type": "object",
                            "required": ["type", "data"],
                            "properties": {
                                "type": {"const": "raw"},
                                "data": {"type": "string", "contentEncoding": "base64"},
                            },
                        },
                    ]
                },
                "Job": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "printer": {"type": "string"},
                        "kind": {"type": "string"},
                        "state": {"$ref": "#/components/schemas/State"},
                        "hold_reason": {"type": ["string", "null"]},
                        "reprint": {"type": "boolean"},
                        "attempts": {"type": "integer"},
                        "last_error": {"type": ["string", "null"]},
                        "bytes": {"type": "integer"},
                        "created": {"type": "string"},
                        "updated": {"type": "string"},
                        "started": {"type": ["string", "null"]},
                        "finished": {"type": ["string", "null"]},
                        "location": {"type": "string"},
                        "warnings": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "JobList": {
                    "type": "object",
                    "properties": {
                        "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}},
                        "next": {"type": ["string", "null"]},
                    },
                },
                "Printer": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "uri": {"type": "string"},
                        "state": {"type": "string"},
                        "status": {"type": "object"},
                        "last_seen": {"type": ["string", "null"]},
                        "queue": {"type": "integer"},
                        "printed": {"type": "integer"},
                    },
                },
                "PrinterList": {
                    "type": "object",
                    "properties": {"printers": {"type": "array", "items": {"$ref": "#/components/schemas/Printer"}}},
                },
                "Problem": {
                    "type": "object",
                    "required": ["title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    }
