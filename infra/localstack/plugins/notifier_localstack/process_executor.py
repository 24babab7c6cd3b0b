"""LocalStack runtime executor that runs a zip function's ``bootstrap`` as a local child process.

The Docker executor relies on LocalStack's runtime-init binary inside a container; here the
executor plays that role itself: it serves the Lambda Runtime API on a free loopback port
(``runtime_api.RuntimeApi``), starts ``<unzipped code>/bootstrap`` in its own process group, and
enforces the function timeout.

Failure behaviour follows the Docker executor (whose init resets the runtime inside the same
container): a crash or a timeout during an invocation yields an error ``InvocationResult`` and
the process is killed; the next invocation on this execution environment starts a fresh process
first. If that fresh start fails, ``StatusErrorException`` makes LocalStack drop the environment
and report the init error, as it does for a failed first start.
"""

import datetime
import logging
import os
import platform
import select
import signal
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import Architecture, PackageType
from localstack.services.lambda_.invocation.executor_endpoint import StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

from notifier_localstack.runtime_api import Invocation, RuntimeApi, error_body

LOG = logging.getLogger(__name__)

HOST = "127.0.0.1"
# Variables of LocalStack's own environment that a function process may inherit.
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "LD_LIBRARY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR")
LOG_TAIL_LINES = 500
# How long to wait for output the function wrote just before it answered.
LOG_DRAIN_SECONDS = 0.2
STOP_GRACE_SECONDS = 1.0

_file_locks: dict[str, threading.Lock] = {}
_file_locks_guard = threading.Lock()


def _file_lock(path: str) -> threading.Lock:
    with _file_locks_guard:
        return _file_locks.setdefault(path, threading.Lock())


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FunctionProcess:
    """One run of ``bootstrap`` together with the Runtime API server it talks to."""

    def __init__(self, executor: "ProcessRuntimeExecutor", env: dict[str, str]):
        self.executor = executor
        self.changed = threading.Event()
        self.api = RuntimeApi(self.changed)
        self.exit_code: int | None = None
        self._io_lock = threading.Lock()
        self._eof = False
        self._partial = b""
        # Output that arrived while no invocation was in flight (init, or between invocations);
        # it goes into the next invocation's logs.
        self._unclaimed: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self.current: Invocation | None = None
        code_dir = executor.code_dir
        env = dict(env, AWS_LAMBDA_RUNTIME_API=f"{HOST}:{self.api.port}")
        try:
            self.proc = subprocess.Popen(
                [str(code_dir / "bootstrap")],
                cwd=code_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as e:
            self.api.close()
            raise StatusErrorException(
                "Environment startup failed",
                payload=error_body("Runtime.InvalidEntrypoint", f"cannot run bootstrap: {e}"),
            ) from e
        self.pid = self.proc.pid
        self._fd = self.proc.stdout.fileno()
        # Non-blocking: the pump thread and `_drain_output` both read after a select() outside
        # the lock, so one may find the pipe already emptied by the other. A blocking read there
        # would hold `_io_lock` until the function writes again, and block the next invoke.
        os.set_blocking(self._fd, False)
        executor.note(f"bootstrap started: pid {self.pid}, runtime api {HOST}:{self.api.port}")
        self._track_pid(True)
        self._pump = threading.Thread(
            target=self._pump_output, name=f"lambda-out-{self.pid}", daemon=True
        )
        self._pump.start()
        threading.Thread(
            target=self._wait_exit, name=f"lambda-wait-{self.pid}", daemon=True
        ).start()

    @property
    def alive(self) -> bool:
        return self.exit_code is None and not self.api.closed.is_set()

    def wait_ready(self, timeout: float, stopping: threading.Event) -> None:
        """Return once the runtime first polls for work; raise if it fails or exits first."""
        deadline = time.monotonic() + timeout
        while True:
            if self.api.init_error is not None:
                self.kill()
                raise StatusErrorException(
                    "Environment startup failed", payload=self.api.init_error
                )
            if self.api.next_requested.is_set():
                return
            if self.exit_code is not None:
                raise StatusErrorException(
                    "Environment startup failed",
                    payload=error_body(
                        "Runtime.ExitError",
                        f"Error: Runtime exited with error: {self._describe_exit()}",
                    ),
                )
            if stopping.is_set():
                self.kill()
                raise LambdaRuntimeException("execution environment stopped during startup")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise StatusErrorException(
                    "Environment startup failed",
                    payload=error_body(
                        "Runtime.Unavailable",
                        f"Error: runtime did not poll for an invocation within {timeout:.0f} s",
                    ),
                )
            self.changed.wait(min(remaining, 0.5))
            self.changed.clear()

    def invoke(self, payload: dict[str, str], timeout: float) -> InvocationResult:
        request_id = payload["invoke-id"]
        started = time.monotonic()
        deadline_ms = int((time.time() + timeout) * 1000)
        invocation = Invocation(
            request_id=request_id,
            payload=(payload.get("payload") or "").encode(),
            headers={
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": payload.get("invoked-function-arn", ""),
                "Lambda-Runtime-Trace-Id": payload.get("trace-id", ""),
            },
        )
        start_line = f"START RequestId: {request_id} Version: {self.executor.qualifier}"
        self.executor.write_log(f"{_now_iso()} {start_line}")
        with self._io_lock:
            invocation.log_lines.extend(self._unclaimed)
            self._unclaimed.clear()
            self.current = invocation
        self.api.submit(invocation)
        if not invocation.done.wait(timeout):
            message = f"{_now_iso()} {request_id} Task timed out after {timeout:.2f} seconds"
            if invocation.finish(True, error_body("Sandbox.Timedout", message)):
                self.executor.note(f"timed out, killing pid {self.pid}")
                self.kill(graceful=False)
        self._drain_output()
        with self._io_lock:
            self.current = None
        duration_ms = (time.monotonic() - started) * 1000
        end_line = f"END RequestId: {request_id}"
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {int(duration_ms) + 1} ms\t"
            f"Memory Size: {self.executor.function_version.config.memory_size} MB"
        )
        self.executor.write_log(end_line)
        self.executor.write_log(f"{_now_iso()} {report}")
        logs = "\n".join([start_line, *invocation.log_lines, end_line, report, ""])
        return InvocationResult(request_id, invocation.result, invocation.is_error, logs)

    def kill(self, graceful: bool = True) -> None:
        """End the process group (bootstrap and anything it started) and the API server."""
        if graceful and self.exit_code is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.proc.wait(STOP_GRACE_SECONDS)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                pass
        try:
            # Also reaps what the bootstrap left behind in its group after it exited itself.
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.api.close()
        self._track_pid(False)

    def _wait_exit(self) -> None:
        code = self.proc.wait()
        # Let the last output through first (unless a leftover child keeps the pipe open).
        self._pump.join(LOG_DRAIN_SECONDS)
        self.exit_code = code
        self.executor.note(f"bootstrap exited: pid {self.pid}, {self._describe_exit()}")
        invocation = self.api.current
        if invocation is not None:
            invocation.finish(
                True,
                error_body(
                    "Runtime.ExitError",
                    f"RequestId: {invocation.request_id} Error: Runtime exited with error: "
                    f"{self._describe_exit()}",
                ),
            )
        self.changed.set()
        self.kill()

    def _describe_exit(self) -> str:
        code = self.exit_code
        if code is not None and code < 0:
            return f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
        return f"exit status {code}"

    # Output handling: the pipe is read by one thread; `_drain_output` lets an invocation
    # collect whatever the function wrote before it answered.

    def _pump_output(self) -> None:
        while not self._eof:
            try:
                readable, _, _ = select.select([self._fd], [], [], 0.5)
            except (OSError, ValueError):
                break
            if readable:
                with self._io_lock:
                    self._read_chunk()
        self.proc.stdout.close()

    def _read_chunk(self) -> None:
        try:
            chunk = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._eof = True
            if self._partial:
                self._emit(self._partial)
                self._partial = b""
            return
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for line in lines:
            self._emit(line)

    def _emit(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        (self.current.log_lines if self.current else self._unclaimed).append(line)
        self.executor.write_log(line)

    def _drain_output(self) -> None:
        # Data written before the response was posted is already in the pipe; once the pipe is
        # empty while holding the lock, every such line has been handed to `_emit`.
        deadline = time.monotonic() + LOG_DRAIN_SECONDS
        while time.monotonic() < deadline:
            with self._io_lock:
                if self._eof:
                    return
                try:
                    readable, _, _ = select.select([self._fd], [], [], 0)
                except (OSError, ValueError):
                    return
                if not readable:
                    return
                self._read_chunk()

    def _track_pid(self, present: bool) -> None:
        # stop.sh uses these files to end function processes even if LocalStack itself died.
        pid_dir = os.environ.get("NOTIFIER_LAMBDA_PID_DIR")
        if not pid_dir:
            return
        path = Path(pid_dir) / str(self.pid)
        try:
            if present:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"{self.pid}\n")
            else:
                path.unlink(missing_ok=True)
        except OSError as e:
            LOG.debug("could not update pid file %s: %s", path, e)


class ProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.qualifier = function_version.id.qualifier
        self.function_name = function_version.id.function_name
        self.code_dir = Path()
        self._env: dict[str, str] = {}
        self._process: FunctionProcess | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        log_dir = os.environ.get("NOTIFIER_LOG_DIR")
        self._log_path = (
            str(Path(log_dir) / "lambda" / f"{self.function_name}.log") if log_dir else None
        )

    # RuntimeExecutor interface

    def start(self, env_vars: dict[str, str]) -> None:
        config_ = self.function_version.config
        if config_.package_type != PackageType.Zip or not config_.code:
            raise LambdaRuntimeException("the process executor runs zip functions only")
        self.code_dir = Path(config_.code.get_unzipped_code_location())
        self._env = self._build_env(env_vars)
        with self._lock:
            self._process = self._launch(config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT)

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self._lock:
            process = self._process
            if process is None or not process.alive:
                # The previous process crashed or timed out: start afresh, as Lambda does.
                if process is not None:
                    process.kill()
                self._process = process = self._launch(config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT)
        result = process.invoke(payload, float(self.function_version.config.timeout))
        if result.is_error and not process.alive:
            with self._lock:
                if self._process is process:
                    self._process = None
        return result

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            if process.current is not None:
                process.current.finish(
                    True, error_body("Runtime.Stopped", "execution environment stopped")
                )
            process.kill()

    def get_address(self) -> str:
        return HOST

    def get_endpoint_from_executor(self) -> str:
        return HOST

    def get_runtime_endpoint(self) -> str:
        return f"http://{HOST}:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"

    def get_logs(self) -> str:
        return "\n".join(self._tail)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        config_ = function_version.config
        if config_.code:
            config_.code.prepare_for_execution()
        host_arch = {"x86_64": Architecture.x86_64, "aarch64": Architecture.arm64}.get(
            platform.machine()
        )
        if config_.architectures and host_arch and config_.architectures[0] != host_arch:
            LOG.warning(
                "Function %s is built for %s but runs as a local process on a %s host",
                function_version.qualified_arn,
                config_.architectures[0],
                host_arch,
            )
        if config_.layers:
            LOG.warning(
                "Function %s has layers; the process executor ignores them",
                function_version.qualified_arn,
            )

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    # Helpers

    def _launch(self, init_timeout: float) -> FunctionProcess:
        if self._stopping.is_set():
            raise LambdaRuntimeException("execution environment stopped")
        process = FunctionProcess(self, self._env)
        process.wait_ready(init_timeout, self._stopping)
        return process

    def _build_env(self, env_vars: dict[str, str]) -> dict[str, str]:
        env = {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.update({k: str(v) for k, v in env_vars.items() if v is not None})
        fv = self.function_version
        env["LAMBDA_TASK_ROOT"] = str(self.code_dir)
        env["LAMBDA_RUNTIME_DIR"] = str(self.code_dir)
        env.setdefault("AWS_LAMBDA_FUNCTION_NAME", fv.id.function_name)
        env.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(fv.config.memory_size))
        env.setdefault("AWS_LAMBDA_FUNCTION_VERSION", fv.id.qualifier)
        env.setdefault("AWS_REGION", fv.id.region)
        env.setdefault("AWS_DEFAULT_REGION", fv.id.region)
        return env

    def note(self, message: str) -> None:
        """A line of the executor's own about the process lifecycle, tagged with the environment."""
        self.write_log(f"{_now_iso()} [process-executor {self.id[:8]}] {message}")

    def write_log(self, line: str) -> None:
        self._tail.append(line)
        if self._log_path is None:
            LOG.info("[lambda %s] %s", self.function_name, line)
            return
        try:
            with _file_lock(self._log_path):
                os.makedirs(os.path.dirname(self._log_path), exist_ok=True)
                with open(self._log_path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
        except OSError as e:
            LOG.warning("cannot write function log %s: %s", self._log_path, e)
