"""City staff's path to publishing measures: the workbook to fill in, and a page that checks it.

``template_bp`` serves ``/vorlage/<id>.xlsx``: ``kg template`` of a data folder the served build was
made from. ``bp`` serves ``/pruefen`` (only registered when ``KIK_CHECK_PAGE`` is 1): upload a
measures table (.xlsx, .ods or .csv) for one of those folders and see what ``kg build`` would say —
the same source error or SHACL findings, from the same code (``kg.check``) — and a preview of the
profiles and the heat map. Nothing is stored and nothing served changes: the check reads a scratch
copy in a process of its own, which is killed when ``KIK_CHECK_TIMEOUT`` passes.

The data folders are those listed in the served build's ``build.json`` (``inputs``), resolved
against the folder that holds the ``dist`` link; a server without them offers no folder.
"""

from __future__ import annotations

import logging
import multiprocessing
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from markupsafe import Markup

from kg.check import TABLE_SUFFIXES
from kg.errors import SourceError
from kg.sources import read_settings
from kg.spreadsheet import REFUSED_SUFFIXES, NotAWorkbook, WorkbookLimits, WorkbookTooLarge, check_archive, refuse_kind
from server.pages.i18n import request_lang
from server.pages.profile_svg import profile_svg
from server.pages.profiles import Cell, Grid, heat_levels
from server.publishing import build_info

log = logging.getLogger(__name__)

bp = Blueprint("check", __name__, template_folder="templates")
template_bp = Blueprint("measures_template", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the folder field around the file
STATUS = {"ok": 200, "invalid": 422, "error": 422, "too-large": 413, "not-a-table": 415}

TEXTS = {
    "de": {
        "title": "Maßnahmentabelle prüfen",
        "intro": "Eine ausgefüllte Maßnahmentabelle (.xlsx, .ods oder .csv) hochladen und sehen, was kg build dazu "
                 "sagen würde: Fehler mit Zeile und Spalte, Verstöße und Warnungen, und eine Vorschau der Profile. "
                 "Es wird nichts gespeichert und nichts veröffentlicht.",
        "folder": "Datenordner (Kommune)",
        "file": "Datei",
        "submit": "Prüfen",
        "template": "Vorlage herunterladen",
        "none": "Dieser Server hat keinen Datenordner des veröffentlichten Builds; die Prüfung ist hier nicht möglich.",
        "result": "Ergebnis",
        "ok": "Ein Build würde diese Tabelle annehmen.",
        "invalid": "Ein Build würde abbrechen: Verstöße gegen die Shapes.",
        "error": "Ein Build würde abbrechen: Fehler in der Tabelle.",
        "too-large": "Die Datei ist zu groß.",
        "not-a-table": "Die Datei ist keine lesbare Tabelle.",
        "fix": "Abhilfe",
        "what": "Fehler",
        "where": "Ort",
        "report": "Prüfbericht (wie kg validate)",
        "preview": "Vorschau",
        "measures_n": "{n} Maßnahmen",
        "profiles": "Profile der Maßnahmen",
        "profile_of": "Profil von {label}",
        "addresses": "adressiert {n} von {total} Herausforderungen",
        "unknown": "Profil unbekannt",
        "missing_folder": "Bitte einen Datenordner wählen.",
        "unknown_folder": "Unbekannter Datenordner „{id}“.",
        "missing_file": "Bitte eine Datei wählen.",
        "wrong_kind": "„{name}“ ist keine Tabelle: erlaubt sind .xlsx, .ods und .csv.",
        "upload_large": "Die Datei ist größer als {limit} Bytes.",
        "timeout": "Die Prüfung dauerte länger als {s:g} Sekunden und wurde abgebrochen. Die Tabelle verkleinern "
                   "oder das Datenteam mit kg build prüfen lassen.",
        "busy": "Gerade laufen zu viele Prüfungen; bitte in einigen Sekunden erneut versuchen.",
        "unreadable": "Die Datei konnte nicht gelesen werden ({detail}). In Excel oder LibreOffice öffnen und neu speichern.",
        "template_missing": "Für „{id}“ gibt es keine Vorlage: der Datenordner ist auf diesem Server nicht vorhanden.",
        "template_broken": "Die Vorlage für „{id}“ kann gerade nicht erzeugt werden: {message}",
        "findings": "{v} Verstöße, {w} Warnungen, {i} Hinweise",
    },
    "en": {
        "title": "Check a measures table",
        "intro": "Upload a filled-in measures table (.xlsx, .ods or .csv) and see what kg build would say about it: "
                 "errors with row and column, violations and warnings, and a preview of the profiles. Nothing is "
                 "stored and nothing is published.",
        "folder": "Data folder (municipality)",
        "file": "File",
        "submit": "Check",
        "template": "Download the template",
        "none": "This server has none of the served build's data folders; checking is not possible here.",
        "result": "Result",
        "ok": "A build would accept this table.",
        "invalid": "A build would stop: shape violations.",
        "error": "A build would stop: an error in the table.",
        "too-large": "The file is too large.",
        "not-a-table": "The file is not a readable table.",
        "fix": "Fix",
        "what": "Problem",
        "where": "Place",
        "report": "Validation report (as kg validate)",
        "preview": "Preview",
        "measures_n": "{n} measures",
        "profiles": "Profiles of the measures",
        "profile_of": "Profile of {label}",
        "addresses": "addresses {n} of {total} challenges",
        "unknown": "profile unknown",
        "missing_folder": "Please choose a data folder.",
        "unknown_folder": "Unknown data folder '{id}'.",
        "missing_file": "Please choose a file.",
        "wrong_kind": "'{name}' is not a table: .xlsx, .ods and .csv are allowed.",
        "upload_large": "The file is larger than {limit} bytes.",
        "timeout": "The check took longer than {s:g} seconds and was stopped. Make the table smaller or ask the data "
                   "team to check it with kg build.",
        "busy": "Too many checks are running; please try again in a few seconds.",
        "unreadable": "The file could not be read ({detail}). Open it in Excel or LibreOffice and save it again.",
        "template_missing": "There is no template for '{id}': the data folder is not on this server.",
        "template_broken": "The template for '{id}' cannot be made right now: {message}",
        "findings": "{v} violations, {w} warnings, {i} infos",
    },
}


def _text(lang: str, key: str, **values: object) -> str:
    text = TEXTS.get(lang, TEXTS["de"])[key]
    return text.format(**values) if values else text


# --- the deployment's data folders --------------------------------------------------------------


@dataclass(frozen=True)
class Folder:
    id: str
    path: Path
    title_de: str
    title_en: str
    base: str
    concept: str

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_de


_FOLDERS_LOCK = threading.Lock()


def data_folders() -> dict[str, Folder]:
    """The served build's data folders that this server can read, by id (once per build)."""
    manifest = build_info.build()
    key = manifest.get("build")
    cached = current_app.extensions.get("kik.check.folders")
    if cached is not None and cached[0] == key:
        return cached[1]
    with _FOLDERS_LOCK:
        roots = [Path(current_app.config["KIK_DIST"]).absolute().parent, Path.cwd()]
        found: dict[str, Folder] = {}
        for entry in manifest.get("inputs", []):
            candidates = [Path(entry)] if Path(entry).is_absolute() else [root / entry for root in roots]
            for path in candidates:
                try:
                    settings = read_settings(path)
                except SourceError:
                    continue
                found.setdefault(settings.id, Folder(settings.id, path, settings.title_de, settings.title_en,
                                                     settings.base, str(settings.concept)))
                break
        current_app.extensions["kik.check.folders"] = (key, found)
        return found


def folder_for(iri: str) -> Folder | None:
    """The data folder whose resources ``iri`` belongs to (its base is a prefix of the IRI)."""
    matches = [f for f in data_folders().values() if iri == f.concept or iri.startswith(f.base)]
    return max(matches, key=lambda f: len(f.base)) if matches else None


@template_bp.app_context_processor
def _links() -> dict:
    """``measures_template_url(iri)`` and ``check_page_url(iri)`` for pages of a municipality or concept."""

    def template_url(iri: str) -> str | None:
        folder = folder_for(iri)
        return url_for("measures_template.download", folder_id=folder.id) if folder else None

    def check_url(iri: str) -> str | None:
        folder = folder_for(iri)
        if folder is None or "check" not in current_app.blueprints:
            return None
        return url_for("check.form", ordner=folder.id)

    return {"measures_template_url": template_url, "check_page_url": check_url}


# --- /vorlage/<id>.xlsx -------------------------------------------------------------------------

_TEMPLATES: OrderedDict[tuple[str, str], bytes] = OrderedDict()
_TEMPLATES_LOCK = threading.Lock()
KEEP_TEMPLATES = 16


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


@template_bp.get("/vorlage/<folder_id>.xlsx")
def download(folder_id: str):
    """The workbook ``kg template`` writes for the folder, made once per build and kept."""
    from kg.template import workbook_bytes

    lang = request_lang()
    folder = data_folders().get(folder_id)
    if folder is None:
        return _plain(404, _text(lang, "template_missing", id=folder_id))
    key = (str(build_info.build().get("build")), folder_id)
    with _TEMPLATES_LOCK:
        data = _TEMPLATES.get(key)
    if data is None:
        try:
            data = workbook_bytes(folder.path)
        except SourceError as error:  # the folder changed since the build and is broken now
            return _plain(503, _text(lang, "template_broken", id=folder_id, message=error.message(lang)))
        with _TEMPLATES_LOCK:
            _TEMPLATES[key] = data
            while len(_TEMPLATES) > KEEP_TEMPLATES:
                _TEMPLATES.popitem(last=False)
    response = Response(data, mimetype=XLSX_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="massnahmen-{folder_id}.xlsx"'
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- /pruefen -----------------------------------------------------------------------------------

_SLOTS: dict[int, threading.BoundedSemaphore] = {}


def _slots() -> threading.BoundedSemaphore:
    size = max(1, int(current_app.config["KIK_CHECK_CONCURRENT"]))
    return _SLOTS.setdefault(size, threading.BoundedSemaphore(size))


def _context():
    """forkserver: the check's process forks from a clean single-threaded server, not from this
    threaded one (as the SPARQL workers do)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _page(status: int, lang: str, **context) -> tuple[str, int]:
    folders = sorted(data_folders().values(), key=lambda f: (f.title(lang).casefold(), f.id))
    # the folder of the form just sent, else ?ordner=; never request.values (it would parse a maybe too large body)
    chosen = context.pop("chosen", g.get("check_folder") or request.args.get("ordner", ""))
    limits = {"bytes": current_app.config["KIK_CHECK_MAX_UPLOAD_BYTES"], "rows": current_app.config["KIK_CHECK_MAX_ROWS"]}
    return render_template("pages/check.html", folders=folders, chosen=chosen, ct=lambda key, **v: _text(lang, key, **v),
                           limits=limits, accept=",".join(TABLE_SUFFIXES), **context), status


def _problem(status: int, lang: str, message: str, **context) -> tuple[str, int]:
    return _page(status, lang, problem=message, **context)


@bp.get("/pruefen")
def form():
    return _page(200, request_lang())


@bp.before_app_request
def _upload_before_body_bound():
    """An upload is answered here, before the app-wide body bound (``KIK_MAX_QUERY_BYTES``, which
    ``server.security`` applies before any view and which is meant for SPARQL queries): /pruefen
    bounds its body itself by ``KIK_CHECK_MAX_UPLOAD_BYTES`` (registered before that bound, so first)."""
    if request.endpoint == "check.check":
        return check()
    return None


@bp.post("/pruefen")
def check():
    config = current_app.config
    limit = int(config["KIK_CHECK_MAX_UPLOAD_BYTES"])
    request.max_content_length = limit + FORM_OVERHEAD  # before anything reads the form
    lang = request_lang()
    if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
        return _problem(413, lang, _text(lang, "upload_large", limit=limit))
    folder_id = request.form.get("ordner", "")
    if not folder_id:
        return _problem(400, lang, _text(lang, "missing_folder"))
    folder = data_folders().get(folder_id)
    if folder is None:
        return _problem(404, lang, _text(lang, "unknown_folder", id=folder_id), chosen="")
    g.check_folder = folder_id
    upload = request.files.get("datei")
    if upload is None or not upload.filename:
        return _problem(400, lang, _text(lang, "missing_file"))
    name = Path(upload.filename).name
    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="kik-upload-") as scratch:
        path = Path(scratch) / f"massnahmen{suffix if suffix in TABLE_SUFFIXES else '.bin'}"
        if suffix in REFUSED_SUFFIXES:
            try:
                refuse_kind(Path(name))
            except SourceError as error:
                return _problem(415, lang, error.message(lang))
        if suffix not in TABLE_SUFFIXES:
            return _problem(415, lang, _text(lang, "wrong_kind", name=name))
        upload.save(path)
        if path.stat().st_size > limit:
            return _problem(413, lang, _text(lang, "upload_large", limit=limit))
        if suffix != ".csv":
            try:
                check_archive(path, int(config["KIK_CHECK_MAX_UNPACKED_BYTES"]))
            except WorkbookTooLarge as error:
                return _problem(413, lang, error.message(lang).replace(str(path), name))
            except NotAWorkbook as error:
                return _problem(415, lang, error.message(lang).replace(str(path), name))
        limits = WorkbookLimits(max_bytes=int(config["KIK_CHECK_MAX_UNPACKED_BYTES"]),
                                max_rows=int(config["KIK_CHECK_MAX_ROWS"]), timeout=float(config["KIK_CHECK_TIMEOUT"]))
        outcome = _run(folder, path, limits, float(config["KIK_CHECK_TIMEOUT"]))
    if outcome[0] == "busy":
        body, status = _problem(503, lang, _text(lang, "busy"))
        return body, status, {"Retry-After": "10"}
    if outcome[0] == "timeout":
        return _problem(422, lang, _text(lang, "timeout", s=float(config["KIK_CHECK_TIMEOUT"])))
    if outcome[0] == "failed":
        log.warning("check of an upload for %s failed: %s", folder.id, outcome[1])
        return _problem(422, lang, _text(lang, "unreadable", detail=outcome[1][:200]))
    result = outcome[1]
    return _page(STATUS.get(result["status"], 422), lang, result=result, file_name=name,
                 preview=_preview(result, lang), chosen=folder.id)


def _run(folder: Folder, upload: Path, limits: WorkbookLimits, timeout: float) -> tuple[str, object]:
    """``kg.check.run`` in a process of its own, killed after ``timeout`` seconds."""
    from kg import check as kg_check

    slots = _slots()
    if not slots.acquire(timeout=5):
        return ("busy", None)
    try:
        context = _context()
        receiver, sender = context.Pipe(duplex=False)
        shapes = build_info.dist_dir() / "shapes.ttl"
        process = context.Process(target=kg_check.run, name="kik-check", daemon=True,
                                  args=(sender, str(folder.path.absolute()), str(upload), limits,
                                        str(shapes) if shapes.is_file() else None))
        process.start()
        sender.close()
        try:
            if not receiver.poll(timeout):
                return ("timeout", None)
            try:
                return receiver.recv()
            except (EOFError, OSError) as error:
                return ("failed", f"the check process stopped ({error})")
        finally:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
            receiver.close()
    finally:
        slots.release()


def _preview(result: dict, lang: str) -> dict | None:
    """The grid as the pages draw it, the heat map's counts and levels, and each measure's profile."""
    grid_data = result.get("grid")
    if not grid_data:
        return None
    cells = tuple(Cell(iri, index, row, column, label_en if lang == "en" and label_en else label_de)
                  for iri, index, row, column, label_de, label_en in grid_data["cells"])
    grid = Grid(grid_data["iri"], grid_data["rows"], grid_data["columns"], cells)
    counts = {cell.iri: 0 for cell in cells}
    for measure in result["measures"]:
        for challenge in measure["challenges"]:
            if challenge in counts:
                counts[challenge] += 1
    levels = heat_levels(counts, grid)
    profiles = []
    for measure in result["measures"]:
        title = (measure["title_en"] if lang == "en" and measure["title_en"] else measure["title_de"]) or measure["id"]
        chosen = [c for c in measure["challenges"] if c in counts]
        svg: Markup | None = None
        if chosen:
            names = "; ".join(f"{c.index} {c.label}" for c in grid.ordered(chosen))
            svg = profile_svg(grid, chosen, _text(lang, "profile_of", label=title),
                              _text(lang, "addresses", n=len(chosen), total=len(cells)) + f": {names}", cell=16, hover=False)
        profiles.append({"id": measure["id"], "title": title, "svg": svg})
    return {"grid": grid, "counts": counts, "levels": levels, "profiles": profiles}
