"""Every Redis name of citybrain: keys, streams and their bounds. The only module that spells one.

Every name carries the hash tag ``{cb}``, so that one MULTI/EXEC, one script or one multi-stream
XREADGROUP stays in one Redis Cluster slot. Hash *fields* of the counter read models are spelled by
``dashboard.store.paths`` (the one owner of their grammar). docs/DATA.md describes these names for
someone writing a feed; ``tests/test_store_names.py`` fails when a name is spelled anywhere else.
"""

from __future__ import annotations

TAG = "{cb}"

# --- input streams: feeds append, the processor and the alert engine read through consumer groups ---
STREAM_CASE_EVENTS = f"{TAG}:in:case-events"
STREAM_SENSOR_READINGS = f"{TAG}:in:sensor-readings"
STREAM_CAMERA_STATUS = f"{TAG}:in:camera-status"
INPUT_STREAMS_MAXLEN = 1_000_000  # approximate (MAXLEN ~): about a day of input at the real rate
STREAM_DEAD_LETTER = f"{TAG}:dead-letter"
DEAD_LETTER_MAXLEN = 100_000

# --- output: the processor's deltas, read by every web process -----------------------------------
STREAM_DELTAS = f"{TAG}:out:deltas"
DELTAS_MAXLEN = 10_000
DELTA_SEQ = f"{TAG}:out:delta-seq"  # string: the seq of the newest delta
STREAM_OVERDUE = f"{TAG}:out:overdue"  # a record per case going overdue (the alert rules read it)
OVERDUE_MAXLEN = 100_000

# --- read models, written only by the processor ------------------------------------------------------
CELL_OPEN = f"{TAG}:rm:cell-open"  # hash cell id -> open cases
COUNTERS = f"{TAG}:rm:counters"  # hash: open, overdue, cameras, cameras_down
OPEN = f"{TAG}:rm:open"  # hash <scope>:<id>:<stage> -> open cases in that stage
OVERDUE_N = f"{TAG}:rm:overdue-n"  # hash <scope>:<id> -> open cases past their stage's deadline
CASE_INDEX = f"{TAG}:rm:case"  # hash case id -> JSON of store.cases.CaseState
CASES_BY_TIME = f"{TAG}:rm:cases-by-time"  # sorted set case id -> reported time (ms)
DEADLINES = f"{TAG}:rm:deadlines"  # sorted set case id -> deadline of its current stage (not yet overdue)
OPEN_TOUCHED = f"{TAG}:rm:open-touched"  # sorted set open case id -> time of its last event (idle check)
ARRIVED_OVERDUE = f"{TAG}:rm:arrived-overdue"  # sorted set case -> when to check it (overdue on arrival)
OVERDUE_URGENT = f"{TAG}:rm:overdue-urgent"  # sorted set: the urgent cases of OVERDUE, same scores
OVERDUE = f"{TAG}:rm:overdue"  # sorted set case id -> deadline (overdue now; smallest = worst)
TICKER = f"{TAG}:rm:ticker"  # list of the latest case events (JSON), newest first
TICKER_LEN = 100
SEEN_EVENTS = f"{TAG}:rm:seen"  # sorted set event id -> ts (ms); trimmed after SEEN_KEEP_MS
SEEN_KEEP_MS = 7 * 24 * 3600 * 1000
PROCESSOR_STATS = f"{TAG}:rm:processor"  # hash: applied, duplicates, dead, illegal, last_ms
CAMERA_STATE = f"{TAG}:rm:camera"  # hash camera id -> status
CAMERA_SINCE = f"{TAG}:rm:camera-since"  # hash camera id -> epoch ms of its last change of status
SENSOR_LAST = f"{TAG}:rm:sensor-last"  # hash sensor id -> JSON of the last reading
SENSOR_STATUS = f"{TAG}:rm:sensor-status"  # hash sensor id -> ok|warn|alarm
SENSOR_STALE = f"{TAG}:rm:sensor-stale"  # set of the sensors silent too long (docs/DEVICES.md)
HEALTH = f"{TAG}:rm:health"  # hash area id -> JSON of the area's health (docs/HEALTH.md)
DERIVED_LEASE = f"{TAG}:rm:derived-lease"  # string: the processor computing health and staleness (PX)
DAY_TTL_S = 92 * 86400
HOUR_TTL_S = 49 * 3600
M5_TTL_S = 2 * 3600
SENSOR_HIST_TTL_S = 25 * 3600
CELL_CLOSED_KEEP = 20  # recently closed cases kept per cell


def day_key(day: str) -> str:
    """The hash of one local day's counters (yyyymmdd)."""
    return f"{TAG}:rm:day:{day}"


def hour_key(hour: str) -> str:
    """The hash of one local hour's counters (yyyymmddhh)."""
    return f"{TAG}:rm:hour:{hour}"


def m5_key(slot: str) -> str:
    """The hash of one 5-minute slot's stage entries (yyyymmddhhmm, minute a multiple of 5)."""
    return f"{TAG}:rm:m5:{slot}"


def cell_cases_key(cell: str) -> str:
    """The set of a cell's open case ids."""
    return f"{TAG}:rm:cell-cases:{cell}"


def cell_closed_key(cell: str) -> str:
    """The sorted set of a cell's most recently closed cases (case id -> closed time ms)."""
    return f"{TAG}:rm:cell-closed:{cell}"


def sensor_hist_key(sensor: str, epoch_hour: int) -> str:
    """The hash of one sensor's readings in one UTC hour: 5-minute slot (0..11) -> highest value."""
    return f"{TAG}:rm:sensor-hist:{sensor}:{epoch_hour}"


# --- HTTP ingest edge: idempotency marks, written by the web process before accepting an event ----
# One string key per event id (SET NX EX), so a repeated POST is answered as a duplicate; it expires
# with the processor's own idempotency window. The processor's seen-set stays the final guard.
INGEST_EVENT_TTL_S = SEEN_KEEP_MS // 1000


def ingest_event_key(event_id: str) -> str:
    """The idempotency mark of one case event id at the HTTP edge."""
    return f"{TAG}:ingest:event:{event_id}"


# --- alerts: written by the alert engine only (dashboard/alerts/) ---------------------------------
ALERT_STATE = f"{TAG}:alert:state"  # hash instance id -> JSON of dashboard.alerts.model.AlertState
ALERT_ACTIVE = f"{TAG}:alert:active"  # sorted set of firing instances: red first, then newest first
ALERT_HISTORY = f"{TAG}:alert:history"  # stream: one entry per transition (MAXLEN ~ alerts.history_maxlen)
ALERT_CONTROL = f"{TAG}:alert:control"  # hash: a reload request the engine takes (rules as JSON)
ALERT_RULES = f"{TAG}:alert:rules"  # hash: the rule set running now and the last reload's outcome
ALERT_COMMANDS = f"{TAG}:alert:commands"  # stream: acknowledge / silence, applied by the engine
ALERT_COMMANDS_MAXLEN = 10_000
STREAM_ALERTS = f"{TAG}:out:alerts"  # stream of alert changes (consecutive seq), pushed to pages
ALERTS_MAXLEN = 10_000
ALERT_SEQ = f"{TAG}:out:alert-seq"  # string: the seq of the newest alert change
ALERT_IN_SENSORS = f"{TAG}:alert:in:sensors"  # hash sensor id -> JSON [ts, value, metric, cell]
ALERT_IN_CAMERAS = f"{TAG}:alert:in:cameras"  # hash camera id -> JSON [status, cell]
ALERT_IN_EVENTS = f"{TAG}:alert:in:events"  # sorted set JSON [event, case, cell, cat, type, step, prio] -> ts
ALERT_IN_OVERDUE = f"{TAG}:alert:in:overdue"  # hash case id -> JSON [cell, priority, stage, deadline]
ALERT_META = f"{TAG}:alert:meta"  # hash: watch_since, bootstrapped
ALERT_LEADER = f"{TAG}:alert:leader"  # string: the token of the engine holding the lease (PX)


def alert_reply_key(command_id: str) -> str:
    """The list where the engine answers one command (the web process waits on it)."""
    return f"{TAG}:alert:reply:{command_id}"


# --- users: written by ``run.py user ...`` and the web role's first admin (dashboard/store/users.py) ---
AUDIT = f"{TAG}:audit"  # stream: who did what, where, when, with what outcome (store/audit.py; by age)
USERS = f"{TAG}:users"  # hash user name -> JSON of dashboard.store.users.User (argon2 hash, roles, ...)


# --- feeds: health and the simulator's state -------------------------------------------------------
FEEDS = f"{TAG}:feeds"  # set of feed names
ROLE_RESTARTS = (
    f"{TAG}:sys:restarts"  # hash role -> JSON {total, recent: [ms...], last_exit} (the supervisor)
)


def feed_key(name: str) -> str:
    """Hash of one feed's health: last_record_ms, heartbeat_ms, records, errors, rate."""
    return f"{TAG}:feed:{name}"


def feed_state_key(name: str) -> str:
    """Hash of a polling feed's memory: item id -> last emitted state (camera_poll)."""
    return f"{TAG}:feed:{name}:state"


SIM_CONTROL = f"{TAG}:sim:control"  # hash: scenario (a name, or "normal" to end one), area (optional id)
SIM_STATE = f"{TAG}:sim:state"  # hash: sim_s, origin_s, tick, counter, seed, rng, weather, sensors, ...
SIM_CASES = f"{TAG}:sim:cases"  # hash: case id -> JSON of a case in flight (the schedule)
SIM_CAMERAS = f"{TAG}:sim:cameras"  # hash: camera id -> status
SIM_LEGACY_SCHEDULE = f"{TAG}:sim:schedule"  # the first simulator's sorted set; dropped on warm start
