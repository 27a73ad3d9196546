"""The shared scenario corpus (docs/scenarios.md) against the Python core: every
`scenarios/*.txt` at the repository root must give exactly the expected effects, which the Rust
core (the reference) wrote. Plus the runner's own checks: bad scenario text is rejected with
file and line, and a wrong expectation fails."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.scenario.grammar import GrammarError, grammar, parse_grammar
from tests.scenario.parse import ScenarioError, parse_file, parse_text
from tests.scenario.run import Runner

CORPUS = Path(__file__).resolve().parents[2] / "scenarios"
FILES = sorted(CORPUS.glob("*.txt"))


def mismatches(path: str, text: str) -> list[str]:
    """Runs one scenario text; returns one diff per case whose output differs."""
    runner = Runner(path)
    out: list[str] = []
    for case in parse_text(path, text):
        actual = runner.step(case)
        if actual != case.expected:
            diff = difflib.unified_diff(case.expected, actual, "expected", "actual", lineterm="")
            out.append(f"{path}:{case.line}: `{case.name}`\n" + "\n".join(diff))
    return out


def test_the_corpus_is_there():
    assert len(FILES) >= 1, f"no scenarios in {CORPUS}"


def failure_report(path: Path) -> str | None:
    """Why one scenario file fails: its bad text (`file:line: message`, as the Rust and Java
    runners word it) or one diff per wrong case; None if it passes."""
    try:
        parse_file(path)  # a syntax error fails here with file:line
        failures = mismatches(str(path), path.read_text(encoding="utf-8"))
    except (ScenarioError, GrammarError) as e:
        return str(e)
    return "\n\n".join(failures) or None


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_scenario(path: Path):
    report = failure_report(path)
    if report is not None:
        pytest.fail(report, pytrace=False)  # the report names file:line; no parser traceback


@pytest.mark.parametrize(
    "rest,message",
    [
        ("tikc now=999\n----\n(no effects)\n", "unknown directive `tikc` (did you mean `tick`?)"),
        (
            "tick nwo=999\n----\n(no effects)\n",
            "unknown key `nwo` for `tick` (did you mean `now`?)",
        ),
        ("tick now=1 nwo=999\n----\n(no effects)\n", "unknown key `nwo` for `tick`"),
        ("tick\n----\n(no effects)\n", "missing key `now` for `tick`"),
    ],
)
def test_a_typo_is_reported_with_file_line_and_the_shared_wording(
    tmp_path: Path, rest: str, message: str
):
    path = tmp_path / "typo.txt"
    path.write_text(INIT + rest, encoding="utf-8")
    assert failure_report(path) == f"{path}:5: {message}"


INIT = (
    "init id=1 peers=2,3 heartbeat=50 rpc_timeout=100 max_entries=3 election=1000..2000"
    " pre_vote=false check_quorum=false now=0 timeout=1000 term=0 voted_for=none\n"
    "----\nevent role role=Follower term=0\n\n"
)
APPEND = (
    "append-request now=1 term=1 leader_id=2 prev_log_index=-1 prev_log_term=0 leader_commit=-1"
)


def test_a_wrong_expectation_is_reported_with_its_line():
    text = INIT + "tick now=1000\n----\n(no effects)\n"
    (failure,) = mismatches("x.txt", text)
    assert failure.startswith("x.txt:5: `tick`")
    assert "+hard_state term=1 voted_for=1" in failure and "-(no effects)" in failure


def test_a_matching_script_passes():
    text = (
        INIT
        + "tick now=999\n----\n(no effects)\n\nstate\n----\n"
        + (
            "state term=0 voted_for=none role=Follower leader_id=none commit_index=-1"
            " last_applied=-1 last_log_index=-1 last_log_term=0\n"
        )
    )
    assert mismatches("x.txt", text) == []


@pytest.mark.parametrize(
    "text,message",
    [
        ("tick now=1\n----\n", "x.txt:1: `tick`: the first case must be `init`"),
        (INIT + "tick now=1 now=2\n----\n", "x.txt:5: key `now` given twice"),
        (INIT + "tick now=soon\n----\n", "x.txt:5: `now=soon`: not an integer"),
        (INIT + "election-timeout ms=-1\n----\n", "x.txt:5: `ms=-1`: milliseconds must be >= 0"),
        (INIT + "tick\n----\n", "x.txt:5: missing key `now` for `tick`"),
        (INIT + "tick now=1 when=2\n----\n", "x.txt:5: unknown key `when` for `tick`"),
        # A misspelt key is named as unknown (as the Java runner says), not as a missing one.
        (INIT + "tick when=3\n----\n", "x.txt:5: unknown key `when` for `tick`"),
        (
            INIT + 'propose now=1 comand="x"\n----\n',
            "x.txt:5: unknown key `comand` for `propose` (did you mean `command`?)",
        ),
        (
            INIT + APPEND + '\n  entry index=0 term=1 comand="x"\n----\n',
            "x.txt:6: unknown key `comand` for `entry` (did you mean `command`?)",
        ),
        (INIT + "jump now=1\n----\n", "x.txt:5: unknown directive `jump`"),
        (INIT + "tick now=1\n", "x.txt:5: `tick`: missing `----`"),
        (INIT + "propose now=1 command=x\n----\n", "x.txt:5: `command=x`: expected a double"),
        (INIT + 'propose now=1 command="a\n----\n', "x.txt:5: unterminated quote"),
        (INIT + 'propose now=1 command="a\\b"\n----\n', "x.txt:5: `\\` is not allowed"),
        (INIT + 'tick now=1\n  entry index=0 term=1 command=""\n----\n', "takes no entry"),
        (INIT + "vote-response now=1 from=2 term=1 vote_granted=yes\n----\n", "true or false"),
        (INIT.replace("election=1000..2000", "election=2000..1000"), "expected MIN..MAX"),
        (INIT.replace("peers=2,3", "peers=2;3"), "comma-separated node ids"),
        ("", "x.txt:1: no cases"),
        (
            INIT + "tick now=10\n----\n\ntick now=9\n----\n",
            "x.txt:8: `now=9` is earlier than the previous directive's now=10",
        ),
    ],
)
def test_bad_scenario_text_is_rejected_with_file_and_line(text: str, message: str):
    with pytest.raises(ScenarioError) as e:
        runner = Runner("x.txt")
        for case in parse_text("x.txt", text):
            runner.step(case)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "text,message",
    [
        ("tick now -\n", "g:1: expected 4 columns (name required optional entries), got 3"),
        ("\n# c\nTick now - no\n", "g:3: `Tick`: not a directive name (a-z and -)"),
        ("tick now,,x - no\n", "g:1: ``: not a key name (a-z and _)"),
        ("tick now now no\n", "g:1: key `now` listed twice for `tick`"),
        ("tick now - maybe\n", "g:1: `maybe`: expected yes or no (takes entry lines)"),
        ("tick now - no\ntick ms - no\n", "g:2: directive `tick` listed twice"),
        ("entry index - yes\n", "g:1: `entry` lines take no entry lines"),
        ("tick now - no\n\n", "g:2: no `entry` line"),
        ("entry index - no\n", "g:1: no directive"),
    ],
)
def test_a_bad_grammar_line_is_refused_naming_file_and_line(text: str, message: str):
    """scenarios/grammar.spec, the one source of the key lists, is checked as the Rust and Java
    runners check it, with the same wording."""
    with pytest.raises(GrammarError) as e:
        parse_grammar("g", text)
    assert str(e.value) == message


def test_the_repository_grammar_parses():
    good = parse_grammar("g", "# c\ntick now - no\nentry index,term,command - no\n")
    assert good.spec("tick") is not None and good.spec("entry") is not None
    init = grammar().spec("init")
    assert init is not None and init.entries and init.optional == ("max_inflight",)
