"""The container deploy without Docker: Dockerfile, compose.yaml and .env.example read as data,
and the image's entry commands run from the wheel installed into a plain virtualenv.

CI has no Docker, so what the image does is proven piece by piece: the builder stage's files
make a wheel that carries prompts/, manifest.yml and the migrations; that wheel, installed
(not editable) into a fresh venv, runs `cxpulse --help`, `migrate`, `doctor`, `serve` and
`scheduler`; and the image's own HEALTHCHECK command, taken from the Dockerfile, passes against
that `serve` and fails once it stops. `make lint` runs hadolint on the Dockerfile.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import AliasChoices
from typer.core import TyperGroup
from typer.main import get_command

from bot.cli import app
from bot.db.engine import make_engine
from bot.db.migrate import current_revision, head_revision
from bot.sandbox.emulator import BOT_USER_ID, SlackEmulator
from bot.settings import Settings
from tests.e2e.conftest import (
    ADMIN,
    LEADERS_CHANNEL,
    PSEUDONYM_KEY,
    SECRET,
    TOKEN,
    install_org,
)

# One worker builds the wheel and the venv once for the whole module (pytest-xdist loadgroup).
pytestmark = pytest.mark.xdist_group("deploy")

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
APP_SERVICES = ("migrate", "web", "scheduler")
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|_KEY$")
SLACK_TOKEN = re.compile(r"xox[abpre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


# --- reading the files -----------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]]

    def all(self, keyword: str) -> list[str]:
        return [args for word, args in self.instructions if word == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"no {keyword} in the {self.name or self.base} stage"
        return found[-1]


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        keyword, _, rest = (current + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return instructions


def dockerfile_stages() -> tuple[dict[str, str], list[Stage]]:
    """The global ARG defaults, and each stage with its base image's ARGs substituted."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, rest in dockerfile_instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "ARG" and not stages:
            arg, _, default = rest.partition("=")
            args[arg] = default
        elif keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name, []))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, rest))
    return args, stages


def env_pairs(args: str) -> dict[str, str]:
    """ENV or LABEL arguments in their key=value form (quotes removed)."""
    return dict(word.split("=", 1) for word in shlex.split(args))


def healthcheck_command(stage: Stage) -> list[str]:
    args = stage.last("HEALTHCHECK")
    options, marker, command = args.partition(" CMD ")
    assert marker, f"HEALTHCHECK without CMD: {args}"
    assert all(word.startswith("--") for word in options.split()), options
    parsed = json.loads(command)
    assert isinstance(parsed, list), "HEALTHCHECK CMD in exec form: no shell in the way"
    return parsed


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def dockerignored(path: str) -> bool:
    """Whether the build context leaves `path` out (.dockerignore: last matching rule wins)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in dockerignore_patterns():
        negated = pattern.startswith("!")
        rule = pattern.lstrip("!")
        if rule.startswith("**/"):
            hit = any(fnmatchcase(part, rule[3:]) for part in parts)
        else:
            hit = any(fnmatchcase(prefix, rule) for prefix in prefixes)
        if hit:
            ignored = not negated
    return ignored


def env_example() -> list[str]:
    return (ROOT / ".env.example").read_text().splitlines()


def cxpulse_command(argv: list[str]) -> None:
    """Fail unless `cxpulse <argv>` names a real command with real options."""
    root = get_command(app)
    assert isinstance(root, TyperGroup)
    name, *options = argv
    command = root.get_command(typer.Context(root), name)
    assert command is not None, f"`cxpulse {name}` is not a command"
    known = {opt for param in command.params for opt in getattr(param, "opts", ())}
    for option in options:
        assert option in known, f"`cxpulse {name}` has no option {option}"


# --- the Dockerfile ------------------------------------------------------------------------


def test_the_image_is_built_in_two_stages_from_one_pinned_python() -> None:
    args, stages = dockerfile_stages()
    assert [stage.name for stage in stages] == ["builder", "runtime"]
    builder, runtime = stages
    assert builder.base == runtime.base, "the venv must run on the interpreter it was built for"
    match = re.fullmatch(r"python:(3\.\d+)\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", builder.base)
    assert match, f"{builder.base}: pin a full Python release on a slim Debian release"
    # The Python the code is checked and formatted for, and that pyproject allows.
    assert match.group(1) == PYPROJECT["tool"]["mypy"]["python_version"]
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + match.group(1).replace(".", "")
    assert PYPROJECT["project"]["requires-python"] == f">={match.group(1)}"
    assert set(args) == {"PYTHON_IMAGE"}


def test_the_builder_installs_the_package_with_its_runtime_dependencies_only() -> None:
    _, (builder, runtime) = dockerfile_stages()
    installs = [run for run in builder.all("RUN") if "pip install" in run]
    assert len(installs) == 1
    [install] = installs
    assert "/opt/venv/bin/pip install --no-cache-dir ." in install
    assert "[dev]" not in install, "no dev extras"
    assert " -e " not in install, "not editable"
    assert builder.all("RUN")[0] == "python -m venv /opt/venv"
    assert not [run for run in runtime.all("RUN") if "pip" in run], "nothing installed at run"
    assert "--from=builder /opt/venv /opt/venv" in runtime.all("COPY")


def test_the_build_context_holds_what_the_builder_copies_and_no_secrets() -> None:
    _, (builder, _) = dockerfile_stages()
    copied: list[str] = []
    for args in builder.all("COPY"):
        *sources, _destination = args.split()
        copied += sources
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert not dockerignored(source), f"COPY {source}: .dockerignore leaves it out"
    # bot/_data links to prompts/ and manifest.yml: the wheel is built from their targets.
    for link in (ROOT / "bot" / "_data").iterdir():
        target = link.resolve().relative_to(ROOT).as_posix()
        assert target in copied, f"{link} points at {target}, which the builder does not copy"
    for secret in (".env", ".env.production", "cxpulse.db", "bot/__pycache__/cli.pyc", ".git"):
        assert dockerignored(secret), f"{secret} would be sent to the Docker daemon"
    assert not dockerignored(".env.example")


def test_the_runtime_runs_cxpulse_serve_as_a_fixed_unprivileged_user() -> None:
    _, (_, runtime) = dockerfile_stages()
    user = runtime.last("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), "numeric, so Kubernetes' runAsNonRoot can check it"
    assert gid.isdigit()
    assert int(uid) >= 1000
    assert int(gid) >= 1000
    setup = " ".join(runtime.all("RUN"))
    assert f"--uid {uid}" in setup
    assert f"--gid {gid}" in setup
    assert json.loads(runtime.last("ENTRYPOINT")) == ["cxpulse"]
    assert json.loads(runtime.last("CMD")) == ["serve"]
    cxpulse_command(["serve"])
    env = env_pairs(" ".join(runtime.all("ENV")))
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert env["PORT"] == str(Settings.model_fields["port"].default)
    assert runtime.last("EXPOSE") == env["PORT"]


def test_the_image_is_labelled_with_this_version() -> None:
    _, (_, runtime) = dockerfile_stages()
    labels = env_pairs(" ".join(runtime.all("LABEL")))
    assert labels["org.opencontainers.image.title"] == "cx-pulse"
    assert labels["org.opencontainers.image.version"] == PYPROJECT["project"]["version"]
    assert labels["org.opencontainers.image.licenses"] == PYPROJECT["project"]["license"]


def test_the_healthcheck_is_python_against_healthz_with_no_shell() -> None:
    _, (_, runtime) = dockerfile_stages()
    command = healthcheck_command(runtime)
    assert command[:2] == ["python", "-c"]
    assert len(command) == 3
    assert "/healthz" in command[2]
    assert "PORT" in command[2]
    # The web service's check in compose.yaml is the image's.
    assert services()["web"]["healthcheck"]["test"] == ["CMD", *command]


# --- compose.yaml ------------------------------------------------------------------------------


def test_compose_runs_postgresql_15_a_migration_the_web_and_the_scheduler() -> None:
    found = services()
    assert set(found) == {"db", *APP_SERVICES}
    db = found["db"]
    assert db["image"] == "postgres:15"
    [volume] = db["volumes"]
    name, _, mount = volume.partition(":")
    assert mount == "/var/lib/postgresql/data"
    assert name in compose()["volumes"], "a named volume: the data outlives the container"
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert db["restart"] == "unless-stopped"


def test_compose_runs_real_cxpulse_commands_from_one_image_and_env_file() -> None:
    found = services()
    commands = {name: found[name]["command"] for name in APP_SERVICES}
    assert commands == {
        "migrate": ["migrate"],
        "web": ["serve", "--no-scheduler"],
        "scheduler": ["scheduler"],
    }
    for argv in commands.values():
        cxpulse_command(argv)
    images = {found[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    assert images.pop().startswith("cx-pulse:")
    for name in APP_SERVICES:
        assert found[name]["build"] == "."
        assert found[name]["env_file"] == ".env"


def test_compose_starts_each_process_only_once_the_schema_is_migrated() -> None:
    found = services()
    assert found["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert found["migrate"]["restart"] == "no"
    for name in ("web", "scheduler"):
        assert found[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert found[name]["depends_on"]["db"] == {"condition": "service_healthy"}
        assert found[name]["restart"] == "unless-stopped"


def test_compose_publishes_the_web_port_and_health_checks_both_processes() -> None:
    found = services()
    web = found["web"]
    assert web["environment"]["PORT"] == "3000"
    [port] = web["ports"]
    assert port.rsplit(":", 1)[1] == web["environment"]["PORT"]
    assert "healthcheck" not in found["migrate"] or found["migrate"]["healthcheck"] == {
        "disable": True
    }
    scheduler = found["scheduler"]
    metrics_port = scheduler["environment"]["CX_METRICS_PORT"]
    assert scheduler["expose"] == [metrics_port]
    test = scheduler["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "CX_METRICS_PORT" in test[3]
    # The scheduler's own /healthz (beside /metrics) answers 503 once its scheduler stopped.
    assert "/healthz" in test[3]


def test_compose_points_every_process_at_the_bundled_postgresql_through_psycopg() -> None:
    found = services()
    urls = {found[name]["environment"]["DATABASE_URL"] for name in APP_SERVICES}
    [url] = urls
    assert url.startswith("postgresql+psycopg://cxpulse:${POSTGRES_PASSWORD")
    assert url.endswith("@db:5432/cxpulse")
    assert found["db"]["environment"]["POSTGRES_USER"] == "cxpulse"
    assert found["db"]["environment"]["POSTGRES_DB"] == "cxpulse"
    # The project's own engine takes the URL (with a password put in) with psycopg 3.
    engine = make_engine(re.sub(r"\$\{[^}]*\}", "hex0123", url))
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_compose_writes_no_secret_itself() -> None:
    text = (ROOT / "compose.yaml").read_text()
    assert not SLACK_TOKEN.search(text)
    for name, service in services().items():
        for key, value in (service.get("environment") or {}).items():
            assert not key.startswith("SLACK_"), f"{name}: {key} belongs in .env"
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), f"{name}: {key} inline"
            for password in re.findall(r"://[^:/@]+:([^@]*)@", str(value)):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", password), f"{name}: {key} password"


# --- .env.example ----------------------------------------------------------------------------


def test_env_files_are_never_committed_nor_built_into_the_image() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
    assert ".env.example" not in ignored
    assert dockerignored(".env")


def test_env_example_documents_every_setting_and_what_compose_reads() -> None:
    text = "\n".join(env_example())
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [field.alias]
        names.add(str(choices[0]))
    names |= set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()))
    for name in sorted(names):
        assert re.search(rf"^(# (e\.g\. )?)?{name}=", text, re.MULTILINE), f"{name} missing"


def test_env_example_holds_no_secret_and_its_defaults_are_the_real_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "CX_")) or name in {"DATABASE_URL", "PORT"}:
            monkeypatch.delenv(name)
    fields = {field.alias: name for name, field in Settings.model_fields.items()}
    checked = 0
    for line in env_example():
        setting = re.fullmatch(r"(# )?([A-Z_]+)=(.*)", line)
        if setting is None:
            continue
        commented, name, value = setting.groups()
        if SECRET_NAME.search(name):
            assert value == "", f"{name}: .env.example must not hold a value"
        if not commented or not value or name not in fields:
            continue
        default = Settings.model_fields[fields[name]].default
        if default is None:
            continue
        one = tmp_path / f"{name}.env"
        one.write_text(line.removeprefix("# ") + "\n")
        read = Settings(_env_file=one)
        assert getattr(read, fields[name]) == default, f"{line}: not the default"
        checked += 1
    assert checked >= 10
    # Filled in, the example is a valid configuration for pydantic's .env reader.
    filled = tmp_path / ".env"
    values = {"CX_PSEUDONYM_KEY": PSEUDONYM_KEY, "SLACK_SIGNING_SECRET": SECRET}
    lines = [
        re.sub(r"^(\w+)=$", lambda m: f"{m[1]}={values.get(m[1], '')}", line)
        for line in env_example()
    ]
    filled.write_text("\n".join(lines) + "\n")
    settings = Settings(_env_file=filled)
    assert settings.pseudonym_key is not None
    assert settings.slack_signing_secret == SECRET


# --- the wheel, installed into a plain virtualenv ------------------------------------------------


@dataclass
class Installed:
    wheel: Path
    venv: Path
    home: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        """Only what a container would have: no PYTHONPATH, no SLACK_/CX_ from the test run."""
        return {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(self.home),
            "PYTHONUNBUFFERED": "1",
            "MPLCONFIGDIR": str(self.home / "matplotlib"),
            "CX_PSEUDONYM_KEY": PSEUDONYM_KEY,
            "CX_TIMEZONE": "UTC",
            **extra,
        }

    def run(self, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [str(self.bin / argv[0]), *argv[1:]],
            env=env,
            cwd=self.home,  # no .env, no checkout: nothing to import from by accident
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _builder_sources(destination: Path) -> Path:
    """The builder stage's files (its COPY lines), copied as the Docker context would be."""
    _, (builder, _) = dockerfile_stages()
    destination.mkdir()
    for args in builder.all("COPY"):
        *sources, _ = args.split()
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(
                    origin,
                    destination / source,
                    symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                )
            else:
                shutil.copy2(origin, destination / source)
    return destination


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("deploy")
    source = _builder_sources(base / "src")
    quiet = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(  # noqa: S603
        [*pip, "wheel", "--no-deps", "--quiet", "--wheel-dir", str(base / "dist"), str(source)],
        check=True,
        env=quiet,
        timeout=300,
    )
    [wheel] = (base / "dist").glob("cx_pulse-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # noqa: S603
    python = venv / "bin" / "python"
    subprocess.run(  # noqa: S603
        [
            *pip,
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        check=True,
        env=quiet,
        timeout=120,
    )
    # The third-party dependencies come from this test run's venv, after the venv's own
    # site-packages (a .pth line only extends sys.path: this venv's editable install of the
    # checkout is not loaded from there, so `bot` can only be the installed wheel's).
    target = subprocess.run(  # noqa: S603
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(target) / "zz_test_dependencies.pth").write_text("\n".join(ours) + "\n")
    home = base / "home"
    home.mkdir()
    return Installed(wheel=wheel, venv=venv, home=home)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def background(installed: Installed) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start a long-running command from the installed venv; whatever is left is stopped."""
    started: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str], log: Path, *argv: str) -> subprocess.Popen[str]:
        with log.open("w") as out:
            process = subprocess.Popen(  # noqa: S603
                [str(installed.bin / argv[0]), *argv[1:]],
                env=env,
                cwd=installed.home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_the_wheel_carries_prompts_the_manifest_and_every_migration(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        prompts = {
            f"bot/_data/prompts/{path.relative_to(ROOT / 'prompts').as_posix()}"
            for path in (ROOT / "prompts").rglob("*.yaml")
        }
        assert prompts
        assert prompts <= names, sorted(prompts - names)
        for name in prompts:
            assert wheel.read(name) == (ROOT / name.removeprefix("bot/_data/")).read_bytes()
        assert wheel.read("bot/_data/manifest.yml") == (ROOT / "manifest.yml").read_bytes()
        migrations = {
            path.relative_to(ROOT).as_posix()
            for path in (ROOT / "bot" / "db" / "migrations").rglob("*")
            if path.suffix in {".py", ".mako"} and "__pycache__" not in path.parts
        }
        assert "bot/db/migrations/env.py" in migrations
        assert migrations <= names, sorted(migrations - names)
        [entry_points] = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        assert "cxpulse = bot.cli:main" in wheel.read(entry_points).decode()
        assert not [name for name in names if name.startswith(("tests/", "benchmarks/"))]


def test_the_installed_package_runs_from_the_venv_not_this_checkout(installed: Installed) -> None:
    code = (
        "import bot, bot.prompts, bot.manifest, bot.db.migrate; "
        "print(bot.__file__, bot.prompts.DEFAULT_PROMPTS_DIR, bot.manifest.MANIFEST_PATH, "
        "bot.db.migrate.MIGRATIONS_DIR, sep='\\n')"
    )
    result = installed.run(installed.env(), "python", "-c", code)
    assert result.returncode == 0, result.stderr
    for path in result.stdout.split():
        assert Path(path).is_relative_to(installed.venv), path
        assert Path(path).exists(), path
    help_text = installed.run(installed.env(), "cxpulse", "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "serve" in help_text.stdout
    assert "scheduler" in help_text.stdout
    manifest = installed.run(installed.env(), "cxpulse", "manifest")
    assert manifest.returncode == 0, manifest.stderr
    assert manifest.stdout == (ROOT / "manifest.yml").read_text()


def test_migrate_then_doctor_from_the_installed_package(
    installed: Installed, database_url: str
) -> None:
    env = installed.env(DATABASE_URL=database_url)
    migrated = installed.run(env, "cxpulse", "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    # doctor reads the manifest's scopes and the prompts' reasons from the package.
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emulator:
        org = install_org(emulator)
        emulator.add_channel(LEADERS_CHANNEL, "leadership", [*org.leaders, ADMIN, BOT_USER_ID])
        doctor_env = {
            **env,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_API_URL": emulator.api_url,
            "CX_LEADERSHIP_CHANNEL": LEADERS_CHANNEL,
            "CX_ADMINS": ADMIN,
        }
        doctor = installed.run(doctor_env, "cxpulse", "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    marks = [line[:1] for line in doctor.stdout.splitlines() if line[:1] in {"✓", "✗"}]
    assert marks, doctor.stdout
    assert set(marks) == {"✓"}, doctor.stdout


def test_serve_from_the_installed_package_passes_the_image_healthcheck(
    installed: Installed,
    database_url: str,
    background: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    _, (_, runtime) = dockerfile_stages()
    check = healthcheck_command(runtime)
    port = str(_free_port())
    env = installed.env(
        DATABASE_URL=database_url,
        PORT=port,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_API_URL="http://127.0.0.1:9/api/",  # never reached: serving needs no Slack call
    )
    log = tmp_path / "serve.log"
    # compose.yaml's web command, from the image's entry point.
    web = background(env, log, "cxpulse", *services()["web"]["command"])

    def healthy() -> bool:
        assert web.poll() is None, log.read_text()
        return installed.run(env, *check).returncode == 0

    _wait(healthy, 60, "/healthz")
    assert f"listening on http://0.0.0.0:{port}/slack/events" in log.read_text()
    web.send_signal(signal.SIGTERM)
    assert web.wait(timeout=30) == 0, log.read_text()
    failed = installed.run(env, *check)
    assert failed.returncode == 1, "the check must fail when nothing answers"


def test_the_scheduler_from_the_installed_package_starts_and_stops_cleanly(
    installed: Installed,
    database_url: str,
    background: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    # Paused: no job may reach for Slack should one fall due while the test runs.
    env = installed.env(DATABASE_URL=database_url, CX_PAUSED="true")
    log = tmp_path / "scheduler.log"
    scheduler = background(env, log, "cxpulse", *services()["scheduler"]["command"])

    def started() -> bool:
        assert scheduler.poll() is None, log.read_text()
        return "cx-pulse scheduler: pulses" in log.read_text()

    _wait(started, 60, "the scheduler's banner")
    scheduler.send_signal(signal.SIGTERM)
    assert scheduler.wait(timeout=30) == 0, log.read_text()
