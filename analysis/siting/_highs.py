"""The HiGHS wrapper: one LP or MIP in, status, solution and bound out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from analysis.siting.model import DEFAULT_TIME_LIMIT_S


@dataclass(frozen=True)
class _Solved:
    status: str
    x: NDArray[np.float64] | None
    objective: float
    bound: float
    optimal: bool


def _highs(
    *,
    cost: NDArray,
    col_lower: NDArray,
    col_upper: NDArray,
    matrix: sparse.spmatrix,
    row_lower: NDArray,
    row_upper: NDArray,
    n_integer: int = 0,
    maximize: bool,
    start: NDArray | None = None,
    start_index: NDArray | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    options: dict[str, object] | None = None,
) -> _Solved:
    """Solve an LP (or a MIP whose first ``n_integer`` columns are integer) with HiGHS (``options``: more HiGHS options)."""
    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-6)
    h.setOptionValue("random_seed", 0)
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    n_col = len(cost)
    csc = sparse.csc_matrix(matrix, dtype=np.float64)
    csc.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = csc.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf).astype(np.float64)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf).astype(np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = csc.shape[0]
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    if n_integer:
        lp.integrality_ = ([highspy.HighsVarType.kInteger] * n_integer
                           + [highspy.HighsVarType.kContinuous] * (n_col - n_integer))
    h.passModel(lp)
    if start is not None:
        if start_index is None:
            sol = highspy.HighsSolution()
            sol.col_value = np.asarray(start, dtype=np.float64)
            sol.value_valid = True
            h.setSolution(sol)
        else:
            h.setSolution(len(start_index), np.asarray(start_index, dtype=np.int32),
                          np.asarray(start, dtype=np.float64))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    name = h.modelStatusToString(status)
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_x else None
    obj = float(info.objective_function_value) if has_x else math.nan
    if n_integer:
        bound = float(info.mip_dual_bound)
    else:
        bound = obj
    return _Solved(status=name, x=x, objective=obj, bound=bound, optimal=status == highspy.HighsModelStatus.kOptimal)
