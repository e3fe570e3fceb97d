"""One Streamlit session driven over Streamlit's own websocket protocol, without a browser (for the load test).

It speaks to the server what the browser speaks (Streamlit 1.67: the
frontend's ``connection/WebsocketConnection.tsx``, ``ForwardMessageCache.ts``
and ``App.tsx``; the server's ``web/server/starlette/starlette_websocket.py``
and ``runtime/app_session.py``), and nothing is switched off on the server:

- **Handshake.** ``GET /_stcore/health`` (which sets the ``_streamlit_xsrf``
  cookie) and ``GET /_stcore/host-config``, as the browser pings before it
  connects; then a websocket to ``ws://127.0.0.1:PORT/_stcore/stream`` with
  that cookie and the subprotocol list ``streamlit, <xsrf token>`` (the
  browser's placeholder ``PLACEHOLDER_AUTH_TOKEN`` when there is no cookie; a
  third entry would be a session id to reconnect to). The server selects
  ``streamlit``. Binary frames only: ``BackMsg`` up, ``ForwardMsg`` down.
- **A run.** ``BackMsg.rerun_script`` (a ``ClientState``): query string,
  widget states, ``page_script_hash`` (the current page's; on the first load
  ``""`` and ``page_name`` = the URL path), ``cached_message_hashes`` and
  ``context_info`` (time zone, locale, URL). The server answers
  ``new_session`` (``metadata.run.script_run_id``), ``navigation`` (every
  page's ``url_pathname`` and ``page_script_hash``, and the page that runs),
  ``delta`` messages (``metadata.delta_path`` = ``[0 main | 1 sidebar, i, j,
  ...]``), ``page_info_changed``, ``script_finished`` (with its status; a run
  ended by ``st.rerun()`` finishes ``FINISHED_EARLY_FOR_RERUN`` and the next
  run follows) and ``session_status_changed``. A step's time runs from
  sending the ``BackMsg`` to the ``script_finished`` (successful) of the run
  it caused: the page is "drawn" for a websocket session when its script has
  finished and the tree holds no exception element.
- **The page's tree.** Each delta replaces the node at its path; when a full
  run finishes successfully every node that run did not send is dropped (the
  frontend's stale-node rule).
- **Widgets.** A widget's id is in its element. States as 1.67 serialises
  them: selectbox and radio ``string_value`` = the *displayed* option label
  (not an index); text input ``string_value``; multiselect
  ``string_array_value`` of labels; checkbox ``bool_value``; buttons, form
  submit buttons and download buttons ``trigger_value`` (sent once); a
  component (``st_folium``) ``json_value``. As the browser's widget manager,
  the client keeps each widget's value (the server's ``set_value`` /
  ``raw_value`` wins, else the value it had, else the element's default) and
  sends the states of the widgets on the page with every rerun. A form's
  widgets are sent only with its submit button's trigger. A widget inside a
  fragment reruns that fragment (``fragment_id``).
- **Page switch** (``st.navigation``): ``rerun_script`` with the target's
  ``page_script_hash`` (from ``navigation``), the query string cleared and
  only the states of widgets drawn by the main script (the sidebar), as
  ``App.onPageChange`` does.
- **Forward-message cache.** A message marked ``metadata.cacheable`` is kept
  by its hash; each rerun lists the kept hashes, and the server then sends a
  ``ref_hash`` stub in place of a message the client holds, which the client
  resolves from its cache with the stub's metadata. Entries unused for
  ``config.max_cached_message_age`` runs are dropped, as in the browser. A
  reference to a message the client does not hold is a protocol error (fatal
  in the browser too).
- **Downloads.** An eager download button's media URL is fetched over HTTP
  from the same loopback server and the button's trigger is sent, as a click
  does. A deferred one (``deferred_file_id``: the file is made on the click)
  is asked for as the frontend's ``DownloadButton.tsx`` and
  ``BackendOperationClient`` do: ``BackMsg.backend_operation_request`` with a
  new ``request_id``, this session's ``session_id`` and
  ``deferred_file.file_id``; the server runs the button's callable and answers
  ``ForwardMsg.backend_operation_response`` with the same ``request_id`` and
  the file's URL (``deferred_file.url``), or ``error_msg``; the URL is then
  fetched. Its trigger is sent only when the button asks for a rerun
  (``ignore_rerun`` false), as the browser does.

Loopback only: the base URL must be 127.0.0.1 / localhost. Every wait is
bounded by ``timeout_s``.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}
MAIN, SIDEBAR = 0, 1
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
_DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
_STATUS = {v: k for k, v in ForwardMsg.ScriptFinishedStatus.items()}
# element kinds whose state the client keeps (value-holding widgets) and the trigger-only ones
_VALUE_WIDGETS = {"selectbox", "radio", "text_input", "text_area", "multiselect", "checkbox"}
_TRIGGERS = {"button", "download_button"}


class ProtocolError(RuntimeError):
    """The server said something the browser would treat as fatal (or nothing, in time)."""


class StepError(RuntimeError):
    """A run finished with an exception (or an error box) on the page."""


class DeferredFileError(RuntimeError):
    """The server could not make a deferred download's file (its ``error_msg``: the button's callable failed, or
    no session holds that file id any more)."""


@dataclass
class Node:
    """One element or block of the page, at its delta path."""

    path: tuple[int, ...]
    msg: ForwardMsg
    run_id: str

    @property
    def is_block(self) -> bool:
        return self.msg.delta.WhichOneof("type") == "add_block"

    @property
    def kind(self) -> str:
        if self.is_block:
            return "block:" + (self.msg.delta.add_block.WhichOneof("type") or "")
        return self.msg.delta.new_element.WhichOneof("type") or ""

    @property
    def proto(self) -> Any:
        if self.is_block:
            return self.msg.delta.add_block
        return getattr(self.msg.delta.new_element, self.kind)

    @property
    def label(self) -> str:
        return getattr(self.proto, "label", "") if not self.is_block else ""

    @property
    def widget_id(self) -> str:
        return getattr(self.proto, "id", "") if not self.is_block else ""

    @property
    def form_id(self) -> str:
        return getattr(self.proto, "form_id", "") if not self.is_block else ""

    @property
    def fragment_id(self) -> str:
        return self.msg.delta.fragment_id

    @property
    def script_hash(self) -> str:
        return self.msg.metadata.active_script_hash

    @property
    def in_sidebar(self) -> bool:
        return self.path[:1] == (SIDEBAR,)


@dataclass
class Run:
    """What one request caused: time to the run's successful finish, and what went wrong on the page."""

    seconds: float
    status: str
    exceptions: list[str] = field(default_factory=list)
    error_boxes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.exceptions and not self.error_boxes

    def raise_for_errors(self) -> Run:
        if self.exceptions:
            raise StepError("exception on the page: " + " | ".join(self.exceptions)[:300])
        if self.error_boxes:
            raise StepError("error box on the page: " + " | ".join(self.error_boxes)[:300])
        return self


def _http_get(url: str, *, timeout_s: float, cookie: str = "") -> tuple[int, bytes, list[str]]:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(req, timeout=timeout_s) as r:
        return r.status, r.read(), r.headers.get_all("Set-Cookie") or []


def _state_of(node: Node, old: WidgetState | None) -> WidgetState | None:
    """The widget's state after the server drew it: what the server set, else what it had, else its default."""
    p, kind = node.proto, node.kind
    ws = WidgetState(id=node.widget_id)
    if kind in ("selectbox", "radio"):
        if p.set_value and p.HasField("raw_value"):
            ws.string_value = p.raw_value
        elif old is not None:
            return old
        elif p.HasField("default") and 0 <= p.default < len(p.options):
            ws.string_value = p.options[p.default]
        else:
            return None
    elif kind in ("text_input", "text_area"):
        if p.set_value and p.HasField("value"):
            ws.string_value = p.value
        elif old is not None:
            return old
        elif p.HasField("default"):
            ws.string_value = p.default
        else:
            return None
    elif kind == "multiselect":
        if p.set_value:
            ws.string_array_value.data.extend(p.raw_values)
        elif old is not None:
            return old
        else:
            ws.string_array_value.data.extend(p.options[i] for i in p.default if 0 <= i < len(p.options))
    elif kind == "checkbox":
        if p.set_value:
            ws.bool_value = p.value
        elif old is not None:
            return old
        else:
            ws.bool_value = p.default
    else:
        return old
    return ws


def state_value(ws: WidgetState | None) -> Any:
    """A widget state's value in Python terms (None when the widget has none)."""
    if ws is None:
        return None
    which = ws.WhichOneof("value")
    if which is None:
        return None
    v = getattr(ws, which)
    if which.endswith("_array_value"):
        return list(v.data)
    if which == "json_value":
        return json.loads(v)
    return v


class StSession:
    """A browser-less Streamlit session: connect, run pages, read the tree, use widgets, time each request."""

    def __init__(self, base_url: str, *, timeout_s: float = 120.0, locale: str = "zh-CN",
                 timezone: str = "Asia/Shanghai", tz_offset_min: int = -480) -> None:
        parsed = urlparse(base_url)
        if parsed.scheme != "http" or (parsed.hostname or "") not in LOCAL:
            raise ValueError(f"loopback only: {base_url}")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.locale, self.timezone, self.tz_offset_min = locale, timezone, tz_offset_min
        self.cookie = ""
        self.session_id = ""
        self.main_script_hash = ""
        self.page_hash = ""
        self.url_path = ""
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash
        self.query_string = ""
        self.nodes: dict[tuple[int, ...], Node] = {}
        self.page_not_found: list[str] = []
        self.bytes_in = 0
        self.messages_in = 0
        self.cache_hits = 0
        self._values: dict[str, WidgetState] = {}
        self._pending: dict[str, dict[str, WidgetState]] = {}  # form id -> widget id -> state
        self._cache: dict[str, list] = {}  # hash -> [encoded message, run count when last used]
        self._cache_runs = 0
        self._max_age = 2
        self._run_id = ""
        self._run_fragments: list[str] = []
        self._run_seq = 0
        self._await_after = -1
        self._last_status = ""
        self._finished = asyncio.Event()
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._failure: BaseException | None = None
        self._ops: dict[str, asyncio.Future] = {}  # backend operation request id -> its response, when it comes

    # --- connection -----------------------------------------------------------------------

    async def connect(self) -> None:
        status, _, cookies = await asyncio.to_thread(_http_get, f"{self.base_url}/_stcore/health",
                                                     timeout_s=self.timeout_s)
        if status != 200:
            raise ProtocolError(f"/_stcore/health answered {status}")
        xsrf = next((c.split(";", 1)[0].split("=", 1)[1] for c in cookies if c.startswith("_streamlit_xsrf=")), "")
        self.cookie = f"_streamlit_xsrf={xsrf}" if xsrf else ""
        await asyncio.to_thread(_http_get, f"{self.base_url}/_stcore/host-config", timeout_s=self.timeout_s,
                                cookie=self.cookie)
        ws_url = "ws" + self.base_url[len("http"):] + "/_stcore/stream"
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self._ws = await asyncio.wait_for(connect(
            ws_url, subprotocols=["streamlit", xsrf or "PLACEHOLDER_AUTH_TOKEN"], origin=self.base_url,
            additional_headers=headers, max_size=MAX_MESSAGE_BYTES, open_timeout=self.timeout_s,
            ping_interval=None), self.timeout_s)
        if self._ws.subprotocol != "streamlit":
            raise ProtocolError(f"the server chose subprotocol {self._ws.subprotocol!r}")
        self._reader = asyncio.create_task(self._read_forever())

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except BaseException:  # cancelled, or failed earlier (already reported): nothing left to do
                pass

    async def __aenter__(self) -> StSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _read_forever(self) -> None:
        try:
            async for data in self._ws:
                if isinstance(data, str):
                    raise ProtocolError("text frame from the server")
                self.bytes_in += len(data)
                self.messages_in += 1
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(self._dereference(msg, data))
            raise ProtocolError("the server closed the websocket")
        except BaseException as exc:
            self._failure = exc
            self._finished.set()
            for fut in self._ops.values():
                if not fut.done():
                    fut.set_exception(ProtocolError(f"the connection failed: {exc!r}"))
            raise

    def _dereference(self, msg: ForwardMsg, data: bytes) -> ForwardMsg:
        if msg.WhichOneof("type") == "ref_hash":
            entry = self._cache.get(msg.ref_hash)
            if entry is None:
                raise ProtocolError(f"cached ForwardMsg miss (hash {msg.ref_hash})")
            entry[1] = self._cache_runs
            self.cache_hits += 1
            full = ForwardMsg()
            full.ParseFromString(entry[0])
            full.metadata.CopyFrom(msg.metadata)
            return full
        if msg.metadata.cacheable and msg.hash:
            if msg.hash in self._cache:
                self._cache[msg.hash][1] = self._cache_runs
            else:
                self._cache[msg.hash] = [bytes(data), self._cache_runs]
        return msg

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            ns = msg.new_session
            self._run_id = msg.metadata.run.script_run_id
            self._run_fragments = list(msg.metadata.run.fragment_ids)
            self._run_seq += 1
            self.main_script_hash = ns.main_script_hash
            if ns.page_script_hash:
                self.page_hash = ns.page_script_hash
            if ns.HasField("initialize") and ns.initialize.session_id:
                self.session_id = ns.initialize.session_id
            if ns.HasField("config"):
                self._max_age = ns.config.max_cached_message_age
        elif kind == "navigation":
            nav = msg.navigation
            self.pages = {p.url_pathname: p.page_script_hash for p in nav.app_pages}
            self.page_hash = nav.page_script_hash
            self.url_path = next((p.url_pathname for p in nav.app_pages if p.page_script_hash == self.page_hash), "")
        elif kind == "delta":
            if msg.delta.WhichOneof("type") in ("new_element", "add_block"):
                node = Node(tuple(msg.metadata.delta_path), msg, self._run_id)
                self.nodes[node.path] = node
                if node.widget_id and node.kind in _VALUE_WIDGETS:
                    ws = _state_of(node, self._values.get(node.widget_id))
                    if ws is not None:
                        self._values[node.widget_id] = ws
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            self.page_not_found.append(msg.page_not_found.page_name)
        elif kind == "backend_operation_response":
            fut = self._ops.get(msg.backend_operation_response.request_id)
            if fut is not None and not fut.done():
                fut.set_result(msg.backend_operation_response)
        elif kind == "script_finished":
            status = msg.script_finished
            self._last_status = _STATUS.get(status, str(status))
            if status == ForwardMsg.FINISHED_SUCCESSFULLY and not self._run_fragments:
                self.nodes = {p: n for p, n in self.nodes.items() if n.run_id == self._run_id}
                live = {n.widget_id for n in self.nodes.values() if n.widget_id}
                self._values = {k: v for k, v in self._values.items() if k in live}
            if status != ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                self._cache_runs += 1
                self._cache = {h: e for h, e in self._cache.items() if self._cache_runs - e[1] <= self._max_age}
            final = status in _DONE or status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR
            if final and self._run_seq > self._await_after:
                self._finished.set()

    # --- requests ---------------------------------------------------------------------------

    def _context(self, cs: Any, url_path: str) -> None:
        ci = cs.context_info
        ci.timezone = self.timezone
        ci.timezone_offset = self.tz_offset_min
        ci.locale = self.locale
        ci.url = f"{self.base_url}/{url_path}"
        ci.is_embedded = False
        ci.color_scheme = "light"

    async def _rerun(self, states: list[WidgetState], *, page_hash: str | None = None, page_name: str = "",
                     fragment_id: str = "", query_string: str | None = None) -> Run:
        if self._failure is not None:
            raise ProtocolError(f"the connection failed earlier: {self._failure!r}")
        back = BackMsg()
        cs = back.rerun_script
        cs.query_string = self.query_string if query_string is None else query_string
        cs.widget_states.widgets.extend(states)
        cs.page_script_hash = self.page_hash if page_hash is None else page_hash
        cs.page_name = page_name
        cs.fragment_id = fragment_id
        cs.cached_message_hashes.extend(self._cache)
        self._context(cs, page_name or self.url_path)
        self._await_after = self._run_seq
        self._finished.clear()
        t0 = time.perf_counter()
        await self._ws.send(back.SerializeToString())
        try:
            await asyncio.wait_for(self._finished.wait(), self.timeout_s)
        except TimeoutError:
            raise ProtocolError(f"no finished run within {self.timeout_s:.0f} s") from None
        seconds = time.perf_counter() - t0
        if self._failure is not None:
            raise ProtocolError(f"the connection failed: {self._failure!r}")
        run = Run(seconds, self._last_status)
        if self._last_status == "FINISHED_WITH_COMPILE_ERROR":
            run.exceptions.append("the script did not compile")
        for node in self.nodes.values():
            if node.kind == "exception":
                run.exceptions.append(f"{node.proto.type}: {node.proto.message}")
            elif node.kind == "alert" and node.proto.format == Alert.ERROR:
                run.error_boxes.append(node.proto.body)
        for name in self.page_not_found:
            run.exceptions.append(f"page not found: {name!r}")
        self.page_not_found.clear()
        return run

    def _states(self, *, only: set[str] | None = None, extra: list[WidgetState] = ()) -> list[WidgetState]:
        """The states of the widgets on the page (``only``: of those ids), with ``extra`` laid over them."""
        live = {n.widget_id for n in self.nodes.values() if n.widget_id}
        if only is not None:
            live &= only
        by_id = {k: v for k, v in self._values.items() if k in live}
        for ws in extra:
            by_id[ws.id] = ws
        return list(by_id.values())

    async def open(self, url_path: str = "") -> Run:
        """The first load of ``/url_path`` (what the browser asks for after connecting)."""
        if self._ws is None:
            await self.connect()
        return await self._rerun([], page_hash="", page_name=url_path, query_string="")

    async def switch_page(self, url_path: str) -> Run:
        """Go to another page of ``st.navigation``, as a click on its link does."""
        target = self.pages.get(url_path)
        if target is None:
            raise KeyError(f"no page {url_path!r}; pages: {sorted(self.pages)}")
        main = {n.widget_id for n in self.nodes.values()
                if n.widget_id and n.script_hash == self.main_script_hash}
        run = await self._rerun(self._states(only=main), page_hash=target, query_string="")
        return run

    # --- reading the page ---------------------------------------------------------------------

    def elements(self, kind: str | None = None, *, sidebar: bool | None = None) -> list[Node]:
        """The page's elements in page order (main area first, then the sidebar), of ``kind`` if given."""
        out = [n for _, n in sorted(self.nodes.items()) if not n.is_block]
        if kind is not None:
            out = [n for n in out if n.kind == kind]
        if sidebar is not None:
            out = [n for n in out if n.in_sidebar == sidebar]
        return out

    def find(self, kind: str, label: str, *, sidebar: bool | None = None) -> Node:
        """The ``kind`` element labelled exactly ``label`` (else the only one whose label contains it)."""
        cands = self.elements(kind, sidebar=sidebar)
        exact = [n for n in cands if n.label == label]
        if exact:
            return exact[0]
        near = [n for n in cands if label in n.label]
        if len(near) == 1:
            return near[0]
        labels = [n.label for n in cands]
        raise LookupError(f"no single {kind} labelled {label!r} on the page (there are {labels})")

    def value(self, node: Node) -> Any:
        return state_value(self._values.get(node.widget_id))

    def texts(self) -> list[str]:
        """Headings, markdown, text, metric labels and alerts on the page, in page order."""
        out = []
        for n in self.elements():
            p = n.proto
            if n.kind in ("heading", "markdown", "text", "alert", "code"):
                out.append(getattr(p, "body", ""))
            elif n.kind == "metric":
                out.append(f"{p.label}: {p.body}")
        return out

    def headings(self) -> list[str]:
        return [n.proto.body for n in self.elements("heading")]

    def tables(self) -> list[Any]:
        """The page's dataframes (``st.dataframe``) as pyarrow tables, in page order."""
        import pyarrow as pa

        return [pa.ipc.open_stream(n.proto.arrow_data.data).read_all() for n in self.elements("dataframe")
                if n.proto.arrow_data.data]

    def html_tables(self) -> list[list[dict[str, str]]]:
        """The page's HTML tables (`ui.htmltable`, drawn as markdown) as rows of {header: cell text}, in page order."""
        import html
        import re

        out = []
        for body in (n.proto.body for n in self.elements("markdown") if 'class="ga-table"' in n.proto.body):
            rows = [[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
                    for r in re.findall(r"<tr>(.*?)</tr>", body)]
            out.append([dict(zip(rows[0], r, strict=True)) for r in rows[1:]] if rows else [])
        return out

    # --- using widgets ---------------------------------------------------------------------------

    async def set_state(self, node: Node, ws: WidgetState) -> Run:
        """Give the widget ``node`` the state ``ws`` and rerun (its fragment only, when it is in one)."""
        ws.id = node.widget_id
        if node.form_id:
            self._pending.setdefault(node.form_id, {})[ws.id] = ws
            return Run(0.0, "PENDING_IN_FORM")
        if ws.WhichOneof("value") not in ("trigger_value", "string_trigger_value", "json_trigger_value"):
            self._values[ws.id] = ws
        return await self._rerun(self._states(extra=[ws]), fragment_id=node.fragment_id)

    async def select(self, label: str, option: str, *, sidebar: bool | None = None) -> Run:
        """Choose the option displayed as ``option`` in the selectbox (or radio) ``label``."""
        try:
            node = self.find("selectbox", label, sidebar=sidebar)
        except LookupError:
            node = self.find("radio", label, sidebar=sidebar)
        if option not in node.proto.options:
            raise LookupError(f"{label!r} has no option {option!r} (it has {list(node.proto.options)[:20]})")
        return await self.set_state(node, WidgetState(string_value=option))

    async def fill(self, label: str, text: str, *, sidebar: bool | None = None) -> Run:
        """Type ``text`` into a text input (in a form: kept until the form is submitted)."""
        node = self.find("text_input", label, sidebar=sidebar)
        return await self.set_state(node, WidgetState(string_value=text))

    async def click(self, label: str, *, sidebar: bool | None = None) -> Run:
        """Click a button (a form's submit button sends the form's widgets with it)."""
        node = self.find("button", label, sidebar=sidebar)
        trigger = WidgetState(id=node.widget_id, trigger_value=True)
        if node.proto.is_form_submitter:
            pending = self._pending.pop(node.form_id, {})
            self._values.update(pending)
            return await self._rerun(self._states(extra=[*pending.values(), trigger]), fragment_id=node.fragment_id)
        return await self._rerun(self._states(extra=[trigger]), fragment_id=node.fragment_id)

    async def deferred_file_url(self, file_id: str) -> str:
        """The URL of the file a deferred download button makes (``file_id``: its ``deferred_file_id``), asked for
        over this session's websocket as the browser asks; `DeferredFileError` when the server answers with an
        error."""
        if self._failure is not None:
            raise ProtocolError(f"the connection failed earlier: {self._failure!r}")
        back = BackMsg()
        op = back.backend_operation_request
        op.request_id = uuid.uuid4().hex
        op.session_id = self.session_id
        op.deferred_file.file_id = file_id
        fut = asyncio.get_running_loop().create_future()
        self._ops[op.request_id] = fut
        try:
            await self._ws.send(back.SerializeToString())
            try:
                response = await asyncio.wait_for(fut, self.timeout_s)
            except TimeoutError:
                raise ProtocolError(f"no answer to the deferred file request within {self.timeout_s:.0f} s") from None
        finally:
            self._ops.pop(op.request_id, None)
        if response.error_msg:
            raise DeferredFileError(response.error_msg)
        return response.deferred_file.url

    def file_url(self, url: str) -> str:
        """A media URL the server gave, made absolute (loopback only)."""
        url = url if url.startswith("http") else f"{self.base_url}{url}"
        if (urlparse(url).hostname or "") not in LOCAL:
            raise ValueError(f"loopback only: {url}")
        return url

    async def download(self, label: str, *, sidebar: bool | None = None) -> tuple[bytes, float, Run | None]:
        """Click a download button: (the file, seconds until it arrived, the rerun the click caused, if any).

        A deferred button's file is asked for first (`deferred_file_url`: the server makes it now), then fetched;
        the time runs from the click to the file's last byte either way."""
        node = self.find("download_button", label, sidebar=sidebar)
        p = node.proto
        t0 = time.perf_counter()
        if p.deferred_file_id:
            url = self.file_url(await self.deferred_file_url(p.deferred_file_id))
        elif p.url:
            url = self.file_url(p.url)
        else:
            raise ProtocolError(f"the download button {label!r} offers no file (disabled?)")

        def get() -> tuple[int, bytes, float]:
            status, body, _ = _http_get(url, timeout_s=self.timeout_s, cookie=self.cookie)
            return status, body, time.perf_counter()

        # the browser's GET of the file leaves on the click, before the rerun the click asks for; here the file
        # is fetched first (a GET started in a thread of this busy client could otherwise reach the server only
        # after that rerun had replaced the file), then the click is sent
        status, body, done = await asyncio.to_thread(get)
        arrived = done - t0
        if status != 200:
            raise ProtocolError(f"{url} answered {status}")
        run = None
        if not p.ignore_rerun:
            trigger = WidgetState(id=node.widget_id, trigger_value=True)
            run = await self._rerun(self._states(extra=[trigger]), fragment_id=node.fragment_id)
        return body, arrived, run
