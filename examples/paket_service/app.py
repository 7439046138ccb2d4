"""A small HTTP service that embeds paketflow: PAKET cases on the SQLite store.

Run it (from the repository root):

    pip install -e . fastapi uvicorn
    PAKETFLOW_STORE=sqlite:///paket.db uvicorn --factory examples.paket_service.app:create_app

Who acts comes from headers (``X-Actor-Id``, ``X-Actor-Roles`` comma-separated,
``X-Actor-Element``, ``X-Actor-Name``); in a real deployment an authenticating proxy
sets them. The language of messages is ``?lang=id|en`` (default ``en``). A refusal is
a JSON answer whose status comes from the refusal's category, never from a table of
codes: 403 who may not act, 409 not possible now, 422 what to fix.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

import paketflow

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ("paket.json", "paket-tahap-tunggal.json")

#: HTTP status per refusal category (the seven categories of paketflow).
STATUS = {
    "permission": 403,
    "segregation_of_duties": 403,
    "state": 409,
    "deadline": 409,
    "data": 422,
    "rule": 422,
    "budget": 422,
}


def _actor(actor_id: str | None, roles: str | None, element: str | None, name: str | None) -> Any:
    if not actor_id:
        return None
    return paketflow.Actor(
        actor_id, {r.strip() for r in (roles or "").split(",") if r.strip()}, element, name
    )


def create_app(store_url: str | None = None) -> FastAPI:
    """The application, on the store at ``store_url`` (default ``$PAKETFLOW_STORE`` or
    ``sqlite:///paket.db``)."""
    url = store_url or os.environ.get("PAKETFLOW_STORE", "sqlite:///paket.db")
    definitions = [paketflow.load_definition(ROOT / "processes" / n) for n in DEFINITIONS]
    engine = paketflow.Engine(definitions, store=paketflow.open_store(url))
    refusals: dict[str, list[tuple[dt.datetime, Any, paketflow.Refused]]] = {}
    app = FastAPI(title="PAKET cases (paketflow example)")

    def lang_of(request: Request) -> str:
        return "id" if request.query_params.get("lang") == "id" else "en"

    def when(body: dict[str, Any], case: str | None = None) -> dt.datetime:
        zone = engine.definition(engine.get(case).definition_hash) if case else definitions[0]
        return paketflow.local_time(body["at"], zone)

    @app.exception_handler(paketflow.Refused)
    async def refused(request: Request, exc: paketflow.Refused) -> JSONResponse:
        return JSONResponse(exc.as_dict(lang_of(request)), status_code=STATUS[exc.category])

    @app.exception_handler(paketflow.UnknownInstance)
    async def unknown(request: Request, exc: paketflow.UnknownInstance) -> JSONResponse:
        return JSONResponse({"error": exc.message(lang_of(request))}, status_code=404)

    @app.exception_handler(paketflow.InvalidTime)
    async def bad_time(request: Request, exc: paketflow.InvalidTime) -> JSONResponse:
        return JSONResponse({"error": exc.message(lang_of(request))}, status_code=422)

    @app.exception_handler(paketflow.DuplicateInstance)
    async def duplicate(request: Request, exc: paketflow.DuplicateInstance) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=409)

    def remember(case: str, at: dt.datetime, actor: Any, call: Any) -> paketflow.Instance:
        try:
            return call()  # type: ignore[no-any-return]
        except paketflow.Refused as exc:
            refusals.setdefault(case, []).append((at, actor, exc))
            raise

    @app.post("/cases", status_code=201)
    async def start(
        body: dict[str, Any],
        request: Request,
        x_actor_id: str | None = Header(None),
        x_actor_roles: str | None = Header(None),
        x_actor_element: str | None = Header(None),
        x_actor_name: str | None = Header(None),
    ) -> dict[str, Any]:
        actor = _actor(x_actor_id, x_actor_roles, x_actor_element, x_actor_name)
        at = when(body)
        instance = engine.start(
            definition=body["definition"],
            instance_id=body["id"],
            data=body.get("data", {}),
            actor=actor,
            at=at,
        )
        return instance.as_dict(lang_of(request))

    @app.get("/cases/{case}")
    async def get(case: str, request: Request) -> dict[str, Any]:
        return engine.get(case).as_dict(lang_of(request))

    @app.post("/cases/{case}/events/{event}")
    async def fire(
        case: str,
        event: str,
        body: dict[str, Any],
        request: Request,
        x_actor_id: str | None = Header(None),
        x_actor_roles: str | None = Header(None),
        x_actor_element: str | None = Header(None),
        x_actor_name: str | None = Header(None),
    ) -> dict[str, Any]:
        actor = _actor(x_actor_id, x_actor_roles, x_actor_element, x_actor_name)
        at = when(body, case)
        data = body.get("data")
        instance = remember(
            case, at, actor, lambda: engine.fire(case, event, actor=actor, data=data, at=at)
        )
        return instance.as_dict(lang_of(request))  # with this command's notices

    @app.post("/cases/{case}/signatures")
    async def sign(
        case: str,
        body: dict[str, Any],
        request: Request,
        x_actor_id: str | None = Header(None),
        x_actor_roles: str | None = Header(None),
        x_actor_element: str | None = Header(None),
        x_actor_name: str | None = Header(None),
    ) -> dict[str, Any]:
        actor = _actor(x_actor_id, x_actor_roles, x_actor_element, x_actor_name)
        at = when(body, case)
        slot = body.get("slot")
        instance = remember(
            case, at, actor, lambda: engine.sign(case, actor=actor, slot=slot, at=at)
        )
        return instance.as_dict(lang_of(request))

    @app.post("/tick")
    async def tick(body: dict[str, Any]) -> dict[str, Any]:
        events = engine.tick(when(body))
        return {"fired": [e.name for e in events]}

    @app.get("/cases/{case}/allowed")
    async def allowed(
        case: str,
        request: Request,
        x_actor_id: str | None = Header(None),
        x_actor_roles: str | None = Header(None),
        x_actor_element: str | None = Header(None),
        x_actor_name: str | None = Header(None),
    ) -> dict[str, Any]:
        actor = _actor(x_actor_id, x_actor_roles, x_actor_element, x_actor_name)
        # the moment to ask about: ?at=…, else the case's last event (never the wall clock,
        # so a case replayed from 2012 is judged in 2012)
        query = request.query_params.get("at")
        at = when({"at": query}, case) if query else engine.history(case)[-1].at
        return engine.allowed(case, actor, at=at).as_dict(lang_of(request))

    def report(case: str, lang: str, fmt: str) -> str:
        instance = engine.get(case)
        definition = engine.definition(instance.definition_hash)
        return paketflow.compliance_report(
            definition,
            engine.history(case),
            lang=lang,
            format=fmt,
            refusals=refusals.get(case, []),
        )

    @app.get("/cases/{case}/report")
    async def report_json(case: str, request: Request) -> PlainTextResponse:
        return PlainTextResponse(
            report(case, lang_of(request), "json"), media_type="application/json"
        )

    @app.get("/cases/{case}/page", response_class=HTMLResponse)
    async def page(case: str, request: Request) -> HTMLResponse:
        """The case and its compliance report, as one page."""
        return HTMLResponse(report(case, lang_of(request), "html"))

    return app
