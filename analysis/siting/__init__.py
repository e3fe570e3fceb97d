"""Siting new stations: maximal covering location (MCLP), exact and greedy.

Planners have a budget for N new stations of one type (a day-care station,
日间照料中心, by default) and a list of possible sites. The model picks the N
sites that bring the most *uncovered* aged 60+ within reach, keeping every
existing operating station of the type.

Definitions (the coverage analysis uses the same ones):

- demand: `analysis.demand.demand_points` weighted by ``elderly`` (where the
  residents of each grid live);
- reach: a demand point is within reach of a station when the straight
  (``distance="euclidean"``) or walking (``"walking"``, along ``roads``)
  distance is at most ``radius_m`` (boundary included);
- uncovered: not within reach of an existing station of the type whose
  ``status`` is operating (a missing status counts as operating; planned
  stations do not count).

Two entry points, as in spopt: `problem_from_matrix` takes a reach matrix
(demand points x candidate sites) and weights; `siting_problem` builds one
from a `Dataset` and `SitingParams`. Both return a `SitingProblem`, which
`solve_siting`, `coverage_curve` and `fewest_sites` take.

How it stays small and fast: demand points that the same set of candidate
sites can reach are interchangeable, so they are merged into one row (weights
summed) before any model is built; points no candidate reaches, and points
already covered, drop out. The exact model is the classic MCLP integer program
(Church & ReVelle 1974) on those rows, solved by HiGHS with the greedy answer
as its starting solution. Greedy comes with a proven bound too: for coverage
(a monotone submodular function) the optimum is at most the value after any
greedy step plus the N largest remaining gains (Minoux 1978), so a greedy
answer that meets its own bound is optimal without any integer program.

Options:

- ``min_spacing_m``: no new station closer than this to an existing station
  of the type (such candidates are dropped) or to another new station (pairs
  closer than this exclude each other). Straight-line distance.
- ``capacity``: each station serves at most its capacity (aged 60+): the
  candidate's ``capacity`` column, else ``site_capacity``; existing stations
  their ``capacity`` (unlimited where unknown). Covered demand is then a flow
  from demand to stations within reach; among the allocations that cover the
  most, the reported one is max-min fair: it maximises the smallest covered
  share among the demand within reach of any station, and demand points with
  the same stations in reach always get the same share.
- ``candidates``: the ``candidates`` layer, or ``"generated"``: one point per
  uncovered estate (its representative point) and, for grids without estates,
  one point per grid with uncovered residents (the uncovered lattice point
  nearest their centre).

Figures are weighted (aged 60+), never counts of demand points.

One difference from the coverage page to know: a grid without estates has
its residents on a lattice of points (`analysis.demand`), and siting counts
the lattice points within reach, while the coverage page gives such a grid
the exact area share of the circles (straight-line distance). For those grids
the two covered figures can differ by a few per cent (more for radii well
below the grid size); for grids with estates they are identical.

The package, one module per concern (spopt keeps its base apart from its
models the same way):

- `model`: parameters (`SitingParams`), results (`SitingResult`,
  `CoverageCurve`) and the reduced instance (`SitingProblem`);
- `problem`: `problem_from_matrix`, the reduction of a reach matrix;
- `candidates`: the dataset adapter (`siting_problem`), reach, existing
  stations, generated candidates;
- `capacity`: flows, fair allocation and station loads of the capacitated model;
- `greedy`, `exact`: the two solvers (`solve_siting`, `fewest_sites`);
- `curve`: `coverage_curve`;
- `tables`: per-site and per-grid tables and the summary;
- `pmedian`: the second objective, siting by distance (p-median with the
  existing stations kept, required/excluded sites, a budget), exact;
- `scenario`: the request/run format that scenarios keep (both objectives, the demand they were sited for),
  their equity before and after, and opening one of their sites.

Everything public is importable from ``analysis.siting`` itself.
"""

from analysis.options import CANDIDATE_SOURCES, DISTANCES, SOLVERS, CandidateSource, Distance, Solver
from analysis.siting.candidates import (
    candidate_sources,
    demand_site_covers,
    existing_stations,
    generate_candidates,
    siting_problem,
    siting_problem_from_frames,
)
from analysis.siting.capacity import _new_share, station_loads
from analysis.siting.curve import coverage_curve
from analysis.siting.exact import _undominated, fewest_sites, solve_siting
from analysis.siting.model import (
    DEFAULT_TIME_LIMIT_S,
    CoverageCurve,
    ProgressFn,
    SitingParams,
    SitingProblem,
    SitingResult,
    check_params,
)
from analysis.siting.pmedian import (
    PMedianResult,
    distances_to_sites,
    pmedian_from_frames,
    pmedian_from_matrix,
    pmedian_sites,
    weighted_quantile,
)
from analysis.siting.problem import _row_classes, problem_from_matrix
from analysis.siting.scenario import (
    DEFAULT_CURVE_MAX,
    MODES,
    SCENARIO_KIND,
    DistanceFigures,
    DistanceRequest,
    DistanceRun,
    Mode,
    PlanDemand,
    SitingRequest,
    SitingRun,
    chosen_sites,
    curve_frame,
    load_run,
    objective_of,
    open_scenario_site,
    run_siting,
    scenario_equity,
)
from analysis.siting.tables import grid_gains, newly_covered, site_service_areas, sites_table, summary

__all__ = [
    "DistanceFigures",
    "DistanceRequest",
    "DistanceRun",
    "PlanDemand",
    "chosen_sites",
    "load_run",
    "objective_of",
    "open_scenario_site",
    "scenario_equity",
    "run_siting",
    "curve_frame",
    "SitingRun",
    "SitingRequest",
    "Mode",
    "SCENARIO_KIND",
    "MODES",
    "DEFAULT_CURVE_MAX",
    "CANDIDATE_SOURCES",
    "candidate_sources",
    "DEFAULT_TIME_LIMIT_S",
    "DISTANCES",
    "SOLVERS",
    "CandidateSource",
    "CoverageCurve",
    "Distance",
    "ProgressFn",
    "SitingParams",
    "SitingProblem",
    "SitingResult",
    "Solver",
    "_new_share",
    "_row_classes",
    "_undominated",
    "check_params",
    "coverage_curve",
    "demand_site_covers",
    "existing_stations",
    "fewest_sites",
    "generate_candidates",
    "grid_gains",
    "newly_covered",
    "problem_from_matrix",
    "site_service_areas",
    "sites_table",
    "siting_problem",
    "siting_problem_from_frames",
    "solve_siting",
    "station_loads",
    "summary",
    "PMedianResult",
    "distances_to_sites",
    "pmedian_from_frames",
    "pmedian_from_matrix",
    "pmedian_sites",
    "weighted_quantile",
]
