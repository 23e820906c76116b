"""The app's side of issue 9: saving runs in a thread and reports in the notice line; health
warnings and the divergence cause are shown."""

from __future__ import annotations

import os

import pytest


def test_save_reports_completion_without_blocking(make_app, files, tools, tmp_path):
    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("n", "s")
        # the key returns at once: the worker writes, the notice says so when it is done
        await tools.wait_for(pilot, lambda: "saved demo.toml" in tools.notice(app))
        assert (tmp_path / "demo.ckpt.npz").stat().st_size < 200_000
        assert not ws.playing

    tools.drive(make_app(files["demo"]), body)


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="root may write into a read-only folder")
def test_save_failure_is_reported_in_the_notice(make_app, files, tools, tmp_path):
    async def body(app, pilot):
        tmp_path.chmod(0o500)
        try:
            await pilot.press("n", "s")
            await tools.wait_for(pilot, lambda: "Could not save" in tools.notice(app))
        finally:
            tmp_path.chmod(0o700)

    tools.drive(make_app(files["demo"]), body)


def test_save_failure_on_a_folder_is_reported(make_app, files, tools, tmp_path):
    (tmp_path / "demo.ckpt.npz").mkdir()            # the checkpoint's name is taken by a folder

    async def body(app, pilot):
        await pilot.press("n", "s")
        await tools.wait_for(pilot, lambda: "Could not save" in tools.notice(app))
        assert "demo.ckpt.npz" in tools.notice(app)

    tools.drive(make_app(files["demo"]), body)


def test_health_warnings_show_in_the_notice_and_the_status(make_app, tools):
    from nnsim.tui.session import builtin_lessons
    path = next(p for p in builtin_lessons() if "dying-relu" in p.name)

    async def body(app, pilot):
        ws = tools.workspace(app)
        await pilot.press("e")
        await tools.wait_for(pilot, lambda: ws.lab.trainer.epoch >= 1 and not ws.playing)
        await tools.wait_for(pilot, lambda: "all relu units dead" in tools.notice(app))
        assert "⚠ all relu units dead" in tools.status(app)

    tools.drive(make_app(path), body)
