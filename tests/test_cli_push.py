"""`feeds worker --once` and `feeds outbox`, as a publisher runs them: against a recording
hub on 127.0.0.1, and with the errors a user can fix as one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.cli import main
from feeds.store import Store
from tests.conftest import REPO, add_post, database_url, make_settings
from tests.hub_server import Recorder, hub_server


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, prog_name="feeds")
    return result.exit_code, result.output


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = database_url(tmp_path, "push")
    Store(make_settings(url).database_url).create_schema()
    return {"FEEDS_CONFIG": str(REPO / "config.toml"), "FEEDS_DATABASE_URL": url}


def with_hub(env: dict[str, str], hub: Recorder) -> dict[str, str]:
    return {**env, "FEEDS_HUBS": f'[{{url = "{hub.url}"}}]', "FEEDS_PUSH_MAX_ATTEMPTS": "2"}


def test_worker_once_delivers_and_outbox_tells(env: dict[str, str]) -> None:
    settings = make_settings(env["FEEDS_DATABASE_URL"])
    store = Store(settings.database_url)
    with hub_server() as hub:
        hub_env = with_hub(env, hub)
        code, output = run(hub_env, "outbox")
        assert (code, output) == (
            0,
            f"hub {hub.url}: not started yet (no worker or server has run with it)\n",
        )
        assert run(hub_env, "worker", "--once") == (0, "announced 0 changes\n")
        add_post(store, settings, slug="told", categories=["tech"])
        assert run(hub_env, "worker", "--once") == (0, "announced 6 changes\n")
        assert len(hub.received) == 1
        code, output = run(hub_env, "outbox")
        assert output == f"hub {hub.url}: 0 waiting, 6 delivered, 0 given up\n"
        hub.status = 500
        add_post(store, settings, slug="refused", categories=["tech"])
        run(hub_env, "worker", "--once")
        code, output = run(hub_env, "outbox")
        assert output.startswith(
            f"hub {hub.url}: 6 waiting, 6 delivered, 0 given up; 1 failed tries"
        )
        assert "500" in output
    store.dispose()


def test_outbox_failures_lists_what_was_given_up(env: dict[str, str]) -> None:
    settings = make_settings(env["FEEDS_DATABASE_URL"])
    store = Store(settings.database_url)
    with hub_server() as hub:
        hub_env = {**with_hub(env, hub), "FEEDS_PUSH_RETRY_SECONDS": "0.001"}
        run(hub_env, "worker", "--once")
        hub.status = 503
        add_post(store, settings, slug="lost", categories=["tech"])
        run(hub_env, "worker", "--once")
        run(hub_env, "worker", "--once")
        code, output = run(hub_env, "outbox", "--failures")
    assert code == 0
    lines = output.splitlines()
    assert lines[0] == f"hub {hub.url}: 0 waiting, 0 delivered, 1 given up"
    assert "after 2 tries" in lines[1] and "503" in lines[1] and "site" in lines[1]
    store.dispose()


def test_worker_without_hubs_or_purges_is_one_error_line(env: dict[str, str]) -> None:
    code, output = run(env, "worker")
    assert code == 1
    assert output == "Error: no [[hubs]] or [[purges]] in the config: nothing to deliver to\n"


def test_worker_with_a_missing_purge_token_is_one_error_line(env: dict[str, str]) -> None:
    purge = '[{kind = "fastly", service_id = "s", token_env = "FEEDS_TEST_NO_SUCH_TOKEN"}]'
    code, output = run({**env, "FEEDS_PURGES": purge}, "worker", "--once")
    assert code == 1
    assert output == (
        "Error: purges[0].token_env: FEEDS_TEST_NO_SUCH_TOKEN is not set in the environment\n"
    )


def test_metrics_show_each_targets_outbox(env: dict[str, str]) -> None:
    from feeds import create_app
    from feeds.settings.tables import Hub

    settings = make_settings(env["FEEDS_DATABASE_URL"])
    store = Store(settings.database_url)
    with hub_server() as hub:
        hub_env = with_hub(env, hub)
        run(hub_env, "worker", "--once")
        hub.status = 503
        add_post(store, settings, slug="counted", categories=["tech"])
        run(hub_env, "worker", "--once")
        client = create_app(settings.replace(hubs=(Hub(hub.url),))).test_client()
        text = client.get("/metrics").get_data(as_text=True)
    target = f'target="hub {hub.url}"'
    assert f"feeds_outbox_waiting{{{target}}} 6.0" in text
    assert f"feeds_outbox_delivered_total{{{target}}} 0.0" in text
    assert f"feeds_outbox_failed_tries{{{target}}} 1.0" in text
    assert f"feeds_outbox_failed_batches{{{target}}} 0.0" in text
    store.dispose()
