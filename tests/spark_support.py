"""Shared by the Spark tests: the skip rule, one SparkSession per test session, JSON comparison."""
from __future__ import annotations

import math
import shutil

import pytest

NO_JAVA = shutil.which("java") is None
#: Spark tests skip only when Java is missing (``.ci/run`` installs openjdk-17-jre-headless).
needs_java = pytest.mark.skipif(NO_JAVA, reason="no `java` on the PATH: the Spark engine needs Java 17 "
                                                "(apt-get install openjdk-17-jre-headless; .ci/run does it)")

#: Money and other floating figures: equal to this relative tolerance (summation order differs
#: between engines, so the last bits can); counts and text exactly.
REL = 1e-9


def spark():
    """The test session's one SparkSession (local[2]; the funnel module reuses it)."""
    from funnel.spark_engine import SMALL_DATA_CONF, spark_session
    return spark_session("local[2]", shuffle_partitions=2, conf=SMALL_DATA_CONF)


def differences(a, b, path: str = "") -> list[str]:
    """Where two report objects differ: ints/text/None exactly, floats to REL relative."""
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        for k in a:
            out += differences(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) != math.isnan(b) or not (math.isnan(a) or math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)):
            out.append(f"{path}: {a!r} != {b!r}")
    elif type(a) is not type(b) or a != b:
        out.append(f"{path}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})")
    return out
