"""citybrain's one entry point: ``python run.py`` starts everything; a role name starts one role."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import redis

from dashboard.config import AppConfig, ConfigError, load_config
from dashboard.domain.types import epoch_ms
from dashboard.store.client import connect
from dashboard.store.roles import record_restart
from dashboard.store.server import EmbeddedRedis, RedisServerError, set_pdeathsig
from feeds.sim.scenarios import SCENARIO_NAMES

ROLES = ("web", "processor", "feeds")
COMMANDS = ("scenario", "reload", "rules", "user")
log = logging.getLogger("citybrain")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="run.py",
        description="citybrain: the live command wall of Chancheng District. With no role, starts "
        "everything: an embedded Redis (unless REDIS_URL is set), the processor, the feeds "
        "(the simulator by default) and the web wall on http://127.0.0.1:8050.",
    )
    p.add_argument(
        "role",
        nargs="?",
        default="all",
        choices=("all", *ROLES, *COMMANDS),
        help="all (default): every role under one supervisor; web: the Dash wall, Socket.IO push and "
        "HTTP APIs; processor: reads input streams, keeps read models, publishes deltas; feeds: the "
        "collectors and the simulator. Single roles need REDIS_URL (or redis.url in the config). "
        "scenario NAME [--area ID]: switch the running simulator to a named scenario and exit "
        "(REDIS_URL, else the embedded server's socket in --data-dir); without NAME: list them. "
        "reload: validate the alert rules in the config and apply them to the running engine (or send "
        "SIGHUP to run.py); an invalid file is refused and the old rules keep running. "
        "rules check|reload|defaults: validate the alert rules, reload them, or print the defaults. "
        "user add|passwd|disable|enable|roles NAME, user list: manage the users (add and roles take --role; "
        "the password is asked twice, or read from the variable --password-env names).",
    )
    p.add_argument(
        "name",
        nargs="?",
        default=None,
        help="scenario: the scenario to switch to; rules: check|reload|defaults; "
        "user: add|passwd|disable|enable|roles|list",
    )
    p.add_argument("target", nargs="?", default=None, help="user: the user name")
    p.add_argument(
        "--role",
        dest="roles",
        metavar="ROLE",
        action="append",
        default=[],
        help="user add|roles: a role, repeatable: district, subdistrict:<id>, community:<id>, "
        "wall:<area id>, admin",
    )
    p.add_argument(
        "--password-env",
        default=None,
        metavar="VAR",
        help="user add|passwd: take the password from this environment variable (for scripts) instead of "
        "asking; never give a password on the command line",
    )
    p.add_argument(
        "--scenario",
        choices=SCENARIO_NAMES,
        default=None,
        help="simulator: start with this scenario (it ends by itself): " + ", ".join(SCENARIO_NAMES),
    )
    p.add_argument(
        "--area", default=None, help="scenario: where (a subdistrict, community or cell id); default: its own"
    )
    p.add_argument(
        "--config", type=Path, default=None, help="config file (default: config.yaml beside run.py)"
    )
    p.add_argument("--host", default=None, help="web: interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="web: TCP port (default 8050)")
    p.add_argument(
        "--speed", type=float, default=None, help="simulator: time compression, e.g. 60 = an hour a minute"
    )
    p.add_argument(
        "--seed", type=int, default=None, help="simulator: random seed; the same seed repeats a run"
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="embedded Redis: folder of its persistence (default var/redis)",
    )
    p.add_argument("--no-simulator", action="store_true", help="feeds: do not run the built-in simulator")
    p.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"), help="DEBUG, INFO, WARNING...")
    return p.parse_intermixed_args(argv)  # options may come between the positionals (user add --role R N)


def configure(args: argparse.Namespace) -> AppConfig:
    """Load the config file and apply command-line overrides; exit with one line on a bad config."""
    try:
        cfg = load_config(args.config)
        if args.host is not None:
            cfg.web.host = args.host
        if args.port is not None:
            cfg.web.port = args.port
        if args.speed is not None:
            cfg.simulator.speed = args.speed
        if args.seed is not None:
            cfg.simulator.seed = args.seed
        if args.data_dir is not None:
            cfg.redis.data_dir = args.data_dir.resolve()
        if args.no_simulator:
            cfg.simulator.enabled = False
        if args.scenario is not None:
            cfg.simulator.scenario = args.scenario
        if cfg.simulator.enabled and "time_scale" not in cfg.alerts.model_fields_set:
            # a compressed demo: rule durations follow the simulator's clock unless set explicitly
            cfg.alerts.time_scale = cfg.simulator.speed
        if cfg.simulator.scenario is not None and cfg.simulator.scenario not in SCENARIO_NAMES:
            raise ConfigError(
                f"simulator.scenario: unknown scenario {cfg.simulator.scenario!r} "
                f"(known: {', '.join(SCENARIO_NAMES)})"
            )
    except ConfigError as err:
        print(f"citybrain: bad configuration: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except ValueError as err:  # an override rejected by validate_assignment
        print(
            f"citybrain: bad option: {str(err).splitlines()[0]} {str(err).splitlines()[1:2]}", file=sys.stderr
        )
        raise SystemExit(2) from None
    return cfg


class Stop:
    """A stop flag set by SIGTERM and SIGINT."""

    def __init__(self) -> None:
        """Install the handlers."""
        self.event = threading.Event()
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        """Remember that we were asked to stop."""
        self.event.set()


def run_role(role: str, cfg: AppConfig, area: str | None = None) -> None:
    """Run one role in this process until SIGTERM or Ctrl-C."""
    url = cfg.redis_url()
    if url is None:
        print(f"citybrain: the {role} role needs REDIS_URL (or redis.url in the config)", file=sys.stderr)
        raise SystemExit(2)
    if role == "web":
        from dashboard.web.app import serve

        if not first_admin(cfg, url, retry_s=None):  # Redis away: try again beside the server, not before it
            threading.Thread(target=first_admin, args=(cfg, url), name="first-admin", daemon=True).start()

        # Until gunicorn installs its own handlers (a graceful stop), leave at once: nothing to flush yet.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: os._exit(0))
        serve(cfg, url, cfg.web.host, cfg.web.port)
        return
    stop = Stop()
    if role == "processor":
        from dashboard.processor.role import run as run_processor

        run_processor(cfg, url, stop.event)
    else:
        from feeds.runner import run

        if cfg.simulator.enabled and cfg.simulator.scenario:  # the simulator takes it before its first tick
            from feeds.simulator import request_scenario

            with connect(url) as client:
                request_scenario(client, cfg.simulator.scenario, area)
            log.info("simulator: starting with scenario %s", cfg.simulator.scenario)
        run(url, stop.event, cfg.feeds, cfg.simulator, cfg.geography, cfg.ingest.buffer_size)


def first_admin(cfg: AppConfig, url: str, retry_s: float | None = 5.0) -> bool:
    """The web role's first step: when there are no users at all, create ``admin`` with the password in
    CB_ADMIN_PASSWORD, else a generated one printed once on stdout (never logged). One of several web
    processes starting together creates it. While Redis is away: retry every ``retry_s`` seconds, or
    (None) return False at once; True when done."""
    from dashboard.store.users import ADMIN_PASSWORD_ENV, FIRST_ADMIN, UserError, Users

    given = os.environ.get(ADMIN_PASSWORD_ENV) or None
    while True:
        try:
            with connect(url, socket_timeout=5, socket_connect_timeout=5) as client:
                users = Users(client, min_password=cfg.auth.min_password_length)
                made = users.ensure_first_admin(given, epoch_ms())
            break
        except UserError as err:
            log.error("no first admin created: %s: %s", ADMIN_PASSWORD_ENV, err)
            return True
        except redis.RedisError as err:
            if retry_s is None:
                return False
            log.warning("first admin: Redis not reachable (%s); trying again in %.0f s", err, retry_s)
            time.sleep(retry_s)
    if made is not None and given is not None:
        log.info("first admin created: user %r, password from %s", FIRST_ADMIN, ADMIN_PASSWORD_ENV)
    if made is None or given is not None:
        return True
    print(f"citybrain: first admin created: user '{FIRST_ADMIN}', password {made} (shown only now; change "
          f"it with: python run.py user passwd {FIRST_ADMIN})", flush=True)  # fmt: skip
    return True


def start_redis(cfg: AppConfig) -> tuple[EmbeddedRedis | None, str]:
    """The configured Redis URL, or an embedded server's, started now (RedisServerError if it cannot)."""
    url = cfg.redis_url()
    if url is not None:
        return None, url
    server = EmbeddedRedis(cfg.redis.data_dir, cfg.redis.executable)
    url = server.start()
    log.info("embedded redis (%s) at %s, data in %s", server.executable, url, server.data_dir)
    return server, url


class Children:
    """The roles as child processes of the supervisor: started, restarted when they die, stopped."""

    def __init__(self, args: argparse.Namespace, cfg: AppConfig, url: str) -> None:
        """Each role's command line (this file, the role, the options passed on) and environment."""
        self.env = dict(os.environ, REDIS_URL=url, PYTHONUNBUFFERED="1")
        self.base = [sys.executable, str(Path(__file__).resolve())]
        self.common = ["--log-level", args.log_level]
        if args.config is not None:
            self.common += ["--config", str(args.config)]
        if args.data_dir is not None:  # the roles keep their files (the ingest journal) beside it
            self.common += ["--data-dir", str(cfg.redis.data_dir)]
        self.extra: dict[str, list[str]] = {
            "web": ["--host", cfg.web.host, "--port", str(cfg.web.port)],
            "processor": ["--speed", str(cfg.simulator.speed)] if args.speed is not None else [],
            "feeds": (["--speed", str(cfg.simulator.speed)] if args.speed is not None else [])
            + (["--seed", str(args.seed)] if args.seed is not None else [])
            + (["--no-simulator"] if args.no_simulator else []),
        }
        self.first_feeds = [
            *(["--scenario", args.scenario] if args.scenario else []),
            *(["--area", args.area] if args.area else []),
        ]  # a scenario starts once, not again when a crashed feeds role is restarted
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, float] = {}

    def spawn(self, role: str) -> None:
        """Start ``role`` (the feeds role's first start takes the scenario)."""
        once = self.first_feeds if role == "feeds" and role not in self.procs else []
        self.procs[role] = subprocess.Popen(
            [*self.base, role, *self.common, *self.extra[role], *once],
            env=self.env,
            stdin=subprocess.DEVNULL,
            preexec_fn=set_pdeathsig,
            start_new_session=True,  # Ctrl-C reaches only the supervisor, which stops roles, then Redis
        )

    def reload_rules(self) -> None:
        """Run ``run.py reload`` in the background (the alert engine takes the rules in the config)."""
        reload = [*self.base, "reload", *self.common]
        threading.Thread(target=subprocess.run, args=(reload,), kwargs={"env": self.env}, daemon=True).start()

    def restart_dead(self, stop: threading.Event) -> None:
        """Restart each role that exited, after 1 s (5 s when it was restarted in the last 30 s), and note
        it for /healthz (``dashboard.store.roles``: a role that keeps restarting makes it 503)."""
        for role, proc in list(self.procs.items()):
            if proc.poll() is not None:
                wait = 1.0 if time.monotonic() - self.restarts.get(role, 0) > 30 else 5.0
                log.warning("%s exited with %s; restarting in %.0f s", role, proc.returncode, wait)
                self.note_restart(role, proc.returncode)
                if stop.wait(wait):
                    return
                self.restarts[role] = time.monotonic()
                self.spawn(role)

    def note_restart(self, role: str, exit_code: int | None, down: bool = True) -> None:
        """Record a restart where /healthz reads it (best effort: Redis may be what is down)."""
        try:
            with connect(self.env["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2) as client:
                record_restart(client, role, exit_code, epoch_ms(), down)
        except redis.RedisError as err:
            log.warning("could not record the restart of %s: %s", role, err)

    def stop(self) -> None:
        """Ask every role to stop (SIGTERM); kill those still running after 5 s."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 5
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def watch(
    stop: threading.Event, hup: threading.Event, children: Children, server: EmbeddedRedis | None
) -> None:
    """Until ``stop``: reload the alert rules on SIGHUP, restart roles that die, and restart the embedded
    Redis when it dies (it reloads its AOF; every role reconnects by itself)."""
    backoff = 0.5
    while not stop.wait(0.5):
        if hup.is_set():
            hup.clear()
            children.reload_rules()
        if server is not None and server.proc is not None and server.proc.poll() is not None:
            code = server.proc.returncode
            log.error("embedded redis exited with %s; restarting it", code)
            try:
                server.start()
            except RedisServerError as err:
                log.error("embedded redis did not start again (%s); retrying in %.0f s", err, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 0.5
            children.note_restart("redis", code, down=False)  # it answers PING: up
        children.restart_dead(stop)


def supervise(args: argparse.Namespace, cfg: AppConfig) -> int:
    """Start Redis (unless external) and every role as a child; restart a child that dies; stop all."""
    os.umask(0o077)  # what we write (the AOF, the ingest journal) is for this user only
    stop = Stop()
    try:
        server, url = start_redis(cfg)
    except RedisServerError as err:
        print(f"citybrain: {err}", file=sys.stderr)
        return 1
    children = Children(args, cfg, url)
    for role in ROLES:
        children.spawn(role)
    hup = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: hup.set())
    log.info(
        "wall on http://%s:%d  (Ctrl-C stops everything; SIGHUP reloads alert rules)",
        cfg.web.host,
        cfg.web.port,
    )
    try:
        watch(stop.event, hup, children, server)
    finally:
        children.stop()
        if server is not None:
            server.stop()
        log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse, configure, and run everything or one role."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format=f"%(asctime)s %(levelname)s [{args.role}] %(name)s: %(message)s",
    )
    if args.name is not None and args.role not in ("scenario", "rules", "user"):
        print(f"citybrain: unexpected argument {args.name!r} (only scenario, rules and user take one)",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.target is not None and args.role != "user":
        print(f"citybrain: unexpected argument {args.target!r}", file=sys.stderr)
        return 2
    if (args.roles or args.password_env is not None) and args.role != "user":
        print("citybrain: --role and --password-env are options of run.py user", file=sys.stderr)
        return 2
    cfg = configure(args)
    if args.role == "all":
        return supervise(args, cfg)
    if args.role in COMMANDS:
        from dashboard import cli

        if args.role == "scenario":
            return cli.scenario(cfg, args.name, args.area)
        if args.role == "user":
            return cli.user(cfg, args.name, args.target, args.roles, args.password_env)
        if args.role == "reload" or args.name == "reload":
            return cli.rules(cfg, "reload")
        if args.name not in cli.RULE_COMMANDS:
            print(f"citybrain: rules wants one of {', '.join(cli.RULE_COMMANDS)}", file=sys.stderr)
            return 2
        return cli.rules(cfg, args.name)
    run_role(args.role, cfg, args.area)
    return 0


if __name__ == "__main__":
    sys.exit(main())
