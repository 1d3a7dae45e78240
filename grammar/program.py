"""The checked program: names resolved, values typed and in range, paths absolute."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from stitchc.passes.rules.rule import Rule

from .ast import Span


@dataclass(frozen=True)
class DataSpec:
    """A checked `data` declaration. `parts` holds absolute paths: one part (split by the fractions `split`,
    seeded) or three (train, val, test); a part is (file,) or (folder,), and (x file, y file) for npy."""

    name: str
    kind: str  # "dataset" | "npz" | "npy" | "images" | "python"
    source: str  # the built-in dataset's name, or the first path of the first part
    split: tuple[float, float, float]
    seed: int
    span: Span
    parts: tuple[tuple[str, ...], ...] = ()
    entry: str | None = None  # python: the function defined in `source`
    # npz: x, y (array names); images: size (H, W) or None, channels; npz, npy, images: scale, mean, std;
    # python: kwargs (passed to the function)
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TensorTypeSpec:
    dtype: str  # numpy dtype name, e.g. "float32"
    shape: tuple[int | str, ...]  # ints or symbols such as "N"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    format: str  # "onnx" | "torch"
    path: str  # the .onnx file, or the .py file defining the torch module
    span: Span  # the path string
    entry: str | None = None  # torch: the nn.Module class name in `path`
    weights: str | None = None  # torch: the state_dict file (absolute)
    input: TensorTypeSpec | None = None  # torch: the input type to trace with


@dataclass(frozen=True)
class PointPair:
    """An explicit, directed stitch `source.path -> target.path`: features of one model replace the other's."""

    source: str  # model name
    source_path: str  # module path or node name inside that model, e.g. "layer1.0.conv1"
    target: str
    target_path: str
    span: Span


@dataclass(frozen=True)
class RefineSpec:
    """Optional SGD refinement of the fitted stitches (only stitch parameters train)."""

    loss: str  # "feature" (MSE to the replaced feature) | "task" (cross-entropy of the candidate)
    epochs: int
    lr: float


@dataclass(frozen=True)
class StitchSpec:
    name: str
    left: str
    right: str
    init: str
    data: str
    split: str
    samples: int
    span: Span
    points: tuple[PointPair, ...] | None = None  # None: automatic matching
    similarity: str = "none"  # "none" | "cka": prefer representationally similar pairs in automatic matching
    resize: bool = False  # allow pairs whose spatial sizes differ (the stitch pools or resizes)
    refine: RefineSpec | None = None


@dataclass(frozen=True)
class MetricSpec:
    """`metric NAME = python("file.py:function", range = [LOW, HIGH])`: function(scores, labels) -> float."""

    name: str
    path: str  # the .py file (absolute)
    function: str
    range: tuple[float, float]  # the values it takes; the hypervolume counts within them
    span: Span


@dataclass(frozen=True)
class ObjectiveSpec:
    direction: str  # "maximize" | "minimize"
    metric: str  # a built-in metric (metric_table.BUILTIN_METRICS) or a declared `metric`
    data: str | None = None  # set for metrics measured on a data split
    split: str | None = None
    args: tuple[tuple[str, int], ...] = ()  # keyword arguments, defaults filled in: (("k", 5),)
    span: Span | None = None

    @property
    def label(self) -> str:
        """How reports name the objective: `accuracy(digits.val)`, `topk(digits.val, k = 3)`, `macs`."""
        inside = ([f"{self.data}.{self.split}"] if self.data else []) + [f"{k} = {v}" for k, v in self.args]
        return f"{self.metric}({', '.join(inside)})" if inside else self.metric

    def on_split(self, split: str) -> ObjectiveSpec:
        """The same metric measured on another split of its data."""
        return replace(self, split=split)


@dataclass(frozen=True)
class GenomeProgramSpec:
    """`program(widen, jitter, max = 4)` in a genome: up to `max_length` morphism/mutation genes."""

    transforms: tuple[str, ...]
    max_length: int


@dataclass(frozen=True)
class TrainSpec:
    """`train = DATA.SPLIT(steps, lr, params, batch, seed)` in a search: each candidate (after its program
    steps) is fine-tuned on that split before it is evaluated. `params`: "all" weights, the "new" ones (added
    or changed by the program's steps) or the "stitches"."""

    data: str
    split: str
    steps: int
    lr: float
    params: str
    batch: int
    seed: int
    span: Span
    nimble: str | None = None  # "Gemm" | "Conv": the first such layer learns its width (evolve/nimble_training.py)


@dataclass(frozen=True)
class GrowthSpec:
    """`algorithm = grow(patience = P, min_gain = G)`: grow one step at a time; stop after P steps in a row that
    did not improve the first objective by more than G (or when the program's slots are full)."""

    patience: int = 1
    min_gain: float = 0.0


@dataclass(frozen=True)
class SearchSpec:
    name: str
    over: tuple[str, ...]  # the stitch declarations searched together
    population: int
    generations: int | None  # None: until the budget is spent
    seed: int
    objectives: tuple[ObjectiveSpec, ...]
    span: Span
    program: GenomeProgramSpec | None = None  # None: the genome is the switches alone
    algorithm: str = "nsga2"  # "nsga2" | "ga" | "gomea" | "random" | "grow" (random, grow: no generations)
    train: TrainSpec | None = None  # None: candidates are evaluated as decoded
    model: str | None = None  # set for a search over one model (`over` is then that model, not stitch groups)
    growth: GrowthSpec | None = None  # set when the algorithm is `grow`
    budget: int | None = None  # distinct candidates to evaluate (random: its `samples` when not set)
    racing: float | None = None  # confidence of racing (stitchc.evolve.racing); None: off


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str  # "int" | "float" | "bool" | an ONNX op name (a node of that op)
    low: float | None
    high: float | None
    default: object | None


@dataclass(frozen=True)
class TransformSpec:
    """A `morphism` or `mutation`: typed parameters bound to an implementation."""

    kind: str  # "morphism" | "mutation"
    name: str
    impl: str
    params: tuple[ParamSpec, ...]
    span: Span


@dataclass(frozen=True)
class PipelineSpec:
    """`pipeline NAME = [p1, p2]` or `fixpoint([p1, p2], max = 8)`: passes by registry or rule name."""

    name: str
    passes: tuple[str, ...]
    fixpoint: bool
    max_rounds: int
    span: Span


@dataclass(frozen=True)
class ExportSpec:
    search: str
    path: str  # absolute: a relative folder in the spec starts at the spec's folder
    format: str
    span: Span


@dataclass
class Program:
    file: str
    source: str
    data: dict[str, DataSpec] = field(default_factory=dict)
    metrics: dict[str, MetricSpec] = field(default_factory=dict)  # user metrics
    models: dict[str, ModelSpec] = field(default_factory=dict)
    stitches: dict[str, StitchSpec] = field(default_factory=dict)
    searches: dict[str, SearchSpec] = field(default_factory=dict)
    exports: list[ExportSpec] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)  # compiled `rule` blocks
    transforms: dict[str, TransformSpec] = field(default_factory=dict)  # morphisms and mutations
    pipelines: dict[str, PipelineSpec] = field(default_factory=dict)
    uses: list[str] = field(default_factory=list)  # absolute paths of `use`d Python pass files
    imports: list[str] = field(default_factory=list)  # absolute paths of imported .stitch files
    unexecuted: list = field(default_factory=list)  # notes (Diagnostic) on what `check --no-exec` did not run

    def parents_of(self, search: SearchSpec) -> list[str]:
        """The models a search reads: its one model, or both sides of each of its stitch groups."""
        if search.model is not None:
            return [search.model]
        return list(dict.fromkeys(m for g in search.over for m in (self.stitches[g].left, self.stitches[g].right)))
