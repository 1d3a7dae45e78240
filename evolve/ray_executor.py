"""Evaluate genomes on a Ray cluster: a pool of actors, each rebuilding the genome space once.

The fitted supernet travels once: the SpaceRecipe (the supernet as ONNX bytes and the genome space's flat
description) and the evaluator without its space (data, objectives, metrics) are each put into Ray's object
store a single time, and every actor receives the two references and rebuilds the space at start-up, exactly
as the spawn pool's workers do. Genomes then go out one per task to whichever actor is free, and evaluations
come back in completion order (ray.wait, through ray.util.ActorPool). The search stays generation-synchronous
and results are matched to genomes by their place in the batch, never by arrival, so the front is the one the in-process executor finds for
the same seed, whatever the number of actors or the cluster's timing.

Ray is optional (`pip install "stitchc[ray]"`): this module imports without it, and RayCluster says in one
line when it is missing or when a cluster cannot be reached. Ray's own logging stays out of the terminal.
"""

from __future__ import annotations

import logging
import os
import socket

from stitchc.stitch.decode import Genome

from .executor import Executor, without_space
from .objectives import Evaluation, Evaluator
from .space_recipe import SpaceRecipe

INSTALL = 'pip install "stitchc[ray]"'
CONNECT_TIMEOUT = 5.0  # seconds to reach a cluster's address before saying it is unreachable
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # length 0, type 4 (SETTINGS), no flags, stream 0


class RayError(Exception):
    """Ray is missing, or the cluster cannot be started or reached; the message is one line."""


class _Worker:
    """One actor: rebuilds the genome space once from the shared recipe, then evaluates genomes."""

    def __init__(self, recipe: SpaceRecipe, shell: Evaluator):
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        shell.space = recipe.build()
        self.evaluator = shell

    def call(self, index: int, method: str, argument) -> tuple:
        """(index, the evaluator's `method` applied to `argument`): the index places the result in its batch."""
        return index, getattr(self.evaluator, method)(argument)


class RayCluster:
    """A connection to a Ray cluster for the length of a run, and the factory of its executors.

    With an address (`host:port` of `ray start --head`, `auto`, or else the environment's RAY_ADDRESS), connects
    to that cluster and disconnects on exit; with none, starts a new local cluster of `workers` CPUs (every core
    when None) and stops it on exit. A process already connected (ray.init called by the caller) is used as it
    is and left connected."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        self.address, self.workers = address, workers
        self.owned = False

    def __enter__(self) -> RayCluster:
        address = self.address or os.environ.get("RAY_ADDRESS") or None  # Ray's own variable, as Ray reads it
        if address is not None:
            _use_token_if_any()  # before Ray is imported: it reads its configuration then
        ray = _import_ray()
        if ray.is_initialized():
            return self
        if address not in (None, "auto"):
            _check_reachable(address)
        options = {"num_cpus": self.workers or os.cpu_count() or 1} if address is None else {}
        try:
            ray.init(
                address=address or "local",  # a new cluster even when `ray start` left one on this machine
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
                configure_logging=True,
                **options,
            )
        except (ConnectionError, ValueError, RuntimeError, TimeoutError) as error:
            where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
            raise RayError(f"cannot connect to {where}: {_first_line(error)}") from None
        self.owned = True
        return self

    def __exit__(self, *exc) -> None:
        if self.owned:
            _import_ray().shutdown()
            self.owned = False

    def actors(self) -> int:
        """How many actors evaluate: one per CPU of the cluster, or `workers` when fewer (an actor holds a CPU:
        more would wait for one forever)."""
        cpus = max(1, int(_import_ray().cluster_resources().get("CPU", 1)))
        return min(self.workers or cpus, cpus)

    def executor(self, evaluator: Evaluator, workers: int = 1, store=None) -> RayExecutor:
        """An executor on this cluster, with the signature of Executor (the run's own choice of `workers` gives
        way to this cluster's `actors()`)."""
        return RayExecutor(evaluator, self.actors(), store)


class RayExecutor(Executor):
    """Executor whose pool is a Ray ActorPool of `workers` actors (the same map, cache and store)."""

    def __enter__(self) -> RayExecutor:
        ray = _import_ray()
        from ray.util import ActorPool

        recipe = ray.put(SpaceRecipe.of(self.evaluator.space))
        shell = ray.put(without_space(self.evaluator, self.workers))
        worker = ray.remote(num_cpus=1)(_Worker)
        self.actors = [worker.remote(recipe, shell) for _ in range(self.workers)]
        self.pools = self.actors  # what Executor.map asks to choose the workers' path
        self.pool = ActorPool(self.actors)
        return self

    def __exit__(self, *exc) -> None:
        ray = _import_ray()
        for actor in self.actors:
            ray.kill(actor)
        self.pool = None

    def _run(self, tasks: list) -> list:
        """Shared evaluation's score tasks (slices of samples) in order, task k on actor k modulo the actors (an
        actor's kept activations are of the samples it is sent again), when there are several."""
        if len(tasks) > 1:
            return self._on_actors("scores", tasks, pinned=True)
        return [self.evaluator.scores(task) for task in tasks]

    def evaluate_many(self, genomes: list[Genome]) -> list[Evaluation]:
        """Evaluations of the genomes, in their order."""
        return self._on_actors("__call__", genomes)

    def _on_actors(self, method: str, arguments: list, pinned: bool = False) -> list:
        """The evaluator's `method` applied to each argument, results in the arguments' order; each computed by
        whichever actor is free, gathered as they finish (ray.wait), or with `pinned` the k-th by actor k modulo
        the actors. An evaluation's own error (a failing user metric, ONNX Runtime) is raised as it is locally."""
        ray = _import_ray()
        items = list(enumerate(arguments))
        try:
            if pinned:
                done = dict(ray.get([self.actors[k % len(self.actors)].call.remote(k, method, a) for k, a in items]))
            else:
                call = lambda actor, item: actor.call.remote(item[0], method, item[1])  # noqa: E731
                done = dict(self.pool.map_unordered(call, items))
        except ray.exceptions.RayTaskError as error:
            raise error.cause from None
        except ray.exceptions.RayActorError as error:  # an actor could not start or died (a node lost)
            raise RayError(f"a Ray actor stopped: {_first_line(error)}") from None
        return [done[index] for index in range(len(arguments))]


def _import_ray():
    try:
        import ray
    except ImportError:
        raise RayError(f"--executor ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


def _check_reachable(address: str) -> None:
    """Fails fast unless a gRPC server (what a Ray cluster's head is) answers at the address: Ray itself
    retries for minutes, logging every attempt, at an address where nothing listens or something else does.
    The probe is HTTP/2's opening: the client preface and an empty SETTINGS frame, to which a gRPC server
    replies with its own SETTINGS frame (frame type 4)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RayError(f"--address {address}: expected HOST:PORT (the address `ray start --head` prints) or auto")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT) as connection:
            connection.sendall(HTTP2_PREFACE + EMPTY_SETTINGS)
            reply = connection.recv(9)
    except OSError as error:
        raise RayError(f"cannot reach a Ray cluster at {address}: {error.strerror or error}") from None
    if len(reply) < 4 or reply[3] != 4:
        raise RayError(f"cannot reach a Ray cluster at {address}: what answers there is not a Ray head node")


def _use_token_if_any() -> None:
    """Connects with Ray's token authentication (the default of `ray start` since Ray 2.5x) when this machine
    has a token and the mode is not chosen, as `ray start --address` does when a node joins; ray.init alone
    would connect without it and be refused."""
    token = os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
    if "RAY_AUTH_MODE" not in os.environ and (token or os.path.exists(os.path.expanduser("~/.ray/auth_token"))):
        os.environ["RAY_AUTH_MODE"] = "token"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
