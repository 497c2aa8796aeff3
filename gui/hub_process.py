"""The station's sync hub as a child process: this program started again with its ``hub``
subcommand (``core.paths.entry_command``) through QProcess, so the GUI imports no hub code.

One per application (``HubProcess.shared``): it outlives the sync panel and a log-out, and
stops when the application quits. What the hub says on stderr in its one Chinese error line
(``错误：…``) is shown; anything else is logged and summed up in Chinese.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QObject, QProcess, Signal
from PySide6.QtNetwork import QAbstractSocket, QNetworkInterface

from core.paths import entry_command
from gui import crash

HUB_PORT = 8765
READY_MARK = "同步服务已开启"


def tr(text: str) -> str:
    return QCoreApplication.translate("hub_process", text)


class HubProcess(QObject):
    changed = Signal()  # started, ready, stopped or failed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.readyReadStandardOutput.connect(self._read_output)
        self.process.readyReadStandardError.connect(self._read_errors)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._failed_to_start)
        self.ready = False
        self.error = ""
        self.port = HUB_PORT
        self.host = ""
        self._stopping = False
        self._stderr: list[str] = []  # its last lines (the request log goes there too: kept short)

    @classmethod
    def shared(cls) -> HubProcess:
        app = QCoreApplication.instance()
        hub = app.findChild(cls)
        if hub is None:
            hub = cls(app)
            app.aboutToQuit.connect(hub.stop)
        return hub

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, db: str, host: str, port: int) -> None:
        if self.running:
            return
        self.ready, self.error, self.port, self.host, self._stopping = False, "", port, host, False
        self._stderr = []
        program, args = entry_command("hub", "--db", db, "--host", host, "--port", str(port))
        self.process.start(program, args)
        self.changed.emit()

    def stop(self) -> None:
        if not self.running:
            return
        self._stopping = True
        if sys.platform == "win32":  # a console program ignores WM_CLOSE; SQLite's transactions survive a kill
            self.process.kill()
        else:
            self.process.terminate()  # uvicorn finishes the requests under way
        if not self.process.waitForFinished(10000):
            self.process.kill()
            self.process.waitForFinished(5000)

    def addresses(self) -> list[str]:
        """Where laptops reach it: this machine's IPv4 addresses on the network (or the one it listens on)."""
        if self.host not in ("0.0.0.0", ""):
            return [self.host]
        found = [a.toString() for a in QNetworkInterface.allAddresses()
                 if a.protocol() == QAbstractSocket.NetworkLayerProtocol.IPv4Protocol and not a.isLoopback()]
        return found or ["127.0.0.1"]

    def _read_output(self) -> None:
        text = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        if READY_MARK in text and not self.ready:
            self.ready = True
            self.changed.emit()

    def _read_errors(self) -> None:
        text = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        self._stderr = (self._stderr + text.splitlines())[-20:]

    def _finished(self, code: int, _status) -> None:
        self.ready = False
        self._read_errors()
        if not self._stopping and code != 0:
            last = next((line for line in reversed(self._stderr) if line.strip()), "")
            if last.startswith("错误："):
                self.error = last.removeprefix("错误：")
            else:
                crash.logger.error("hub process exited %s: %s", code, "\n".join(self._stderr))
                self.error = tr("同步服务意外停止，详情已记入日志")
        self.changed.emit()

    def _failed_to_start(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.error = tr("无法启动同步服务程序")
            self.changed.emit()
