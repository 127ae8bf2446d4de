"""Every error the strategy-program checker can raise, one case each.

The checker (fastring.strategies.compile_program) is the safety net for
users' strategies: a program it accepts must neither corrupt the buffer nor
hang the engine. Each case below is a minimal program that breaks exactly
one rule, with the words the error must contain, so that a rule that stops
firing (or fires with a message that no longer names the step) fails here.
"""
import pytest

from fastring import config
from fastring.config import ConfigError
from fastring.model import strategies as S
from fastring.model.strategies import ProgramError, compile_program

N = ["preempt_off", "reserve", "copy_user_to_slot nofault", "commit_local",
     "preempt_on"]                                  # a valid program to vary

CASES = {
    # parsing
    "repeated label": (["a: preempt_off", "a: preempt_on"],
                       "program[1]", "repeated label 'a'"),
    "bad label": (["1x: preempt_off", "preempt_on"], "program[0]", "bad or repeated label"),
    "unknown step": (["preempt_off", "jump", "preempt_on"], "program[1]", "unknown step 'jump'"),
    "missing argument": (["goto"], "program[0]", "expects 1 argument"),
    "extra argument": (["preempt_off now", "preempt_on"], "program[0]", "expects 0 argument"),
    "unknown label": (["goto nowhere"], "program[0]", "unknown label 'nowhere'"),
    "bound not an integer": (["a: read_cs", "retry_if_cs_changed a many"],
                             "program[1]", "bound must be an integer"),
    "bound too large": (["a: read_cs", f"retry_if_cs_changed a {S.MAX_BOUND + 1}"],
                        "program[1]", f"[0, {S.MAX_BOUND}]"),
    # loops
    "unbounded loop": (["a: preempt_off", "preempt_on", "goto a"],
                       "unbounded loop", "through step 0"),
    # state at the end of a path
    "reservation never committed": (["preempt_off", "reserve", "preempt_on"],
                                     "end of a path", "never committed"),
    "preemption still off": (["preempt_off"], "end of a path", "preemption is still off"),
    "migration still disabled": (["migrate_off"], "end of a path",
                                 "migration is still disabled"),
    "bounce never freed": (["kmalloc"], "end of a path", "bounce buffer is never freed"),
    # one step at a time
    "preempt_off twice": (["preempt_off", "preempt_off"], "program[1]", "already off"),
    "preempt_on while on": (["preempt_on"], "program[0]", "already on"),
    "migrate_off twice": (["migrate_off", "migrate_off"], "program[1]", "already disabled"),
    "migrate_on while on": (["migrate_on"], "program[0]", "already enabled"),
    "strnlen inside N": (["preempt_off", "strnlen", "preempt_on"],
                         "program[1] (strnlen)", "inside a preempt-off section"),
    "fault_in inside N": (["preempt_off", "fault_in", "preempt_on"],
                          "program[1] (fault_in)", "inside a preempt-off section"),
    "kmalloc twice": (["kmalloc", "kmalloc"], "program[1]", "already allocated"),
    "kfree without kmalloc": (["kfree"], "program[0]", "kfree without kmalloc"),
    "faulting copy inside N": (["preempt_off", "reserve", "copy_user_to_slot",
                                "commit_local", "preempt_on"],
                               "program[2]", "copy that may fault"),
    "slot copy without reservation": (["copy_user_to_slot"], "program[0]",
                                      "no reservation"),
    "scratch copy with migration on": (["copy_user_to_scratch"], "program[0]",
                                       "scratch buffer with migration"),
    "memcpy without reservation": (["copy_user_to_bounce", "memcpy_bounce_to_slot"],
                                   "program[1]", "no reservation"),
    "scratch holds no copy": (["preempt_off", "reserve", "memcpy_scratch_to_slot",
                               "commit_local", "preempt_on"],
                              "program[2]", "scratch buffer holds no copy"),
    "bounce holds no copy": (["preempt_off", "reserve", "memcpy_bounce_to_slot",
                              "commit_local", "preempt_on"],
                             "program[2]", "bounce buffer holds no copy"),
    "reserve twice": (["preempt_off", "reserve", "reserve"], "program[2]",
                      "reservation is open"),
    "reserve outside N": (["reserve"], "program[0]", "outside a preempt-off section"),
    "commit before reserve": (["commit_split"], "program[0]", "before reserve"),
    "commit_local after a possible migration": (
        ["preempt_off", "reserve", "preempt_on", "copy_user_to_slot",
         "preempt_off", "commit_local", "preempt_on"],
        "program[5]", "use commit_split or commit_atomic"),
    "rollback after a possible migration": (
        ["preempt_off", "reserve", "preempt_on", "preempt_off", "rollback",
         "preempt_on"],
        "program[4]", "may have migrated"),
    "commit_unsafe without live.allow_unsafe": (
        ["preempt_off", "reserve", "commit_unsafe", "preempt_on"],
        "program[2]", "commit_unsafe adds to another CPU's counter without an"),
    # the whole program
    "empty program": ([], "non-empty list", ""),
    "too many steps": (["preempt_off", "preempt_on"] * (S.MAX_STEPS // 2 + 1),
                       f"at most {S.MAX_STEPS}", ""),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_error(case):
    program, where, what = CASES[case]
    with pytest.raises(ProgramError) as err:
        compile_program("mine", program)
    msg = str(err.value)
    assert msg.startswith("strategies.mine"), msg
    assert where in msg and what in msg, msg


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_error_surfaces_through_config_load(case):
    """The config compiles its strategies: a program the checker refuses is
    refused by ``config.load`` with the same message (a ConfigError), not at
    run time. An empty program is the schema's to refuse, before the checker."""
    program, where, what = CASES[case]
    with pytest.raises(ConfigError) as err:
        config.load({"strategies": {"mine": {"program": program}},
                     "run": {"strategies": ["mine"]}})
    msg = str(err.value)
    assert msg.startswith("strategies.mine"), msg
    assert where in msg and what in msg, msg


def test_a_string_is_not_a_program():
    with pytest.raises(ProgramError, match="non-empty list of steps"):
        compile_program("mine", "preempt_off")


def test_the_valid_variants_pass():
    """The near misses of the cases above are accepted, so each case fails for
    the one rule it breaks, not for a neighbour."""
    for program in (
            N,
            ["copy_user_to_bounce", *N[:2], "memcpy_bounce_to_slot", *N[3:]],
            ["migrate_off", "copy_user_to_scratch", *N[:2],
             "memcpy_scratch_to_slot", *N[3:], "migrate_on"],
            ["preempt_off", "reserve", "preempt_on", "copy_user_to_slot",
             "preempt_off", "commit_split", "preempt_on"],
            ["a: read_cs", f"retry_if_cs_changed a {S.MAX_BOUND}"],
            ["preempt_off", "preempt_on"] * (S.MAX_STEPS // 2),
            *(prog for _, prog in S.BUILTIN.values())):
        code = compile_program("mine", program)
        assert code[-1, S.OP] == S.END


def test_every_rule_has_a_case():
    """Each rule message in the checker's source is matched by a case above,
    so a new rule without a test fails here."""
    import inspect
    import re
    src = inspect.getsource(S)
    rules = set(re.findall(r'fail\("([^"{]+)', src))           # one-step rules
    rules |= set(re.findall(r'\([\w.]+, "([^"]+)"\)', src))    # end-of-path rules
    rules |= set(re.findall(r'\("\w+", (?:True|False), "([^"]+)"\)', src))  # toggles
    assert len(rules) >= 20, rules                           # the regexes still see them
    whats = [what for _, _, what in CASES.values() if what]
    missing = sorted(r for r in rules if not any(w in r for w in whats))
    assert not missing, f"checker rules without a test case: {missing}"
