import core.selftest as selftest


def test_selftest_passes_and_reports_one_line(capsys):
    assert selftest.main() == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("SonoClick selftest OK")


def test_selftest_fails_with_the_reason(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("no segmenter")

    monkeypatch.setattr("core.labels.high_confidence.high_confidence_labels", broken)
    assert selftest.main() == 1
    assert "FAILED: RuntimeError: no segmenter" in capsys.readouterr().out
