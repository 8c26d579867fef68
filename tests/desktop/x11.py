"""What a window manager does to the app's window, for the desktop smoke test (python3-xlib):
find the app's top-level window, ask it to close (WM_DELETE_WINDOW, as the title bar's close
button does) and read whether it is shown (mapped)."""

from Xlib import X, display, protocol


class AppWindow:
    def __init__(self, pid, title="MicroClaw Console"):
        self.d = display.Display()
        self.pid = pid
        self.title = title
        self.wm_protocols = self.d.intern_atom("WM_PROTOCOLS")
        self.wm_delete = self.d.intern_atom("WM_DELETE_WINDOW")
        self.net_pid = self.d.intern_atom("_NET_WM_PID")

    def _candidates(self):
        root = self.d.screen().root
        for w in root.query_tree().children:
            try:
                prop = w.get_full_property(self.net_pid, X.AnyPropertyType)
                if not prop or int(prop.value[0]) != self.pid:
                    continue
                name = w.get_wm_name() or ""
                if isinstance(name, bytes):
                    name = name.decode("utf-8", "replace")
                protocols = w.get_wm_protocols() or []
                if self.title in name and self.wm_delete in protocols:
                    yield w
            except Exception:  # a window that went away while we looked
                continue

    def window(self):
        """The app's main window (None when it has none)."""
        found = list(self._candidates())
        return found[0] if found else None

    def shown(self):
        """True while the main window is mapped (visible), False when hidden, None when absent."""
        w = self.window()
        if w is None:
            return None
        return w.get_attributes().map_state == X.IsViewable

    def request_close(self):
        """Sends WM_DELETE_WINDOW, as a window manager does for the title bar's close button."""
        w = self.window()
        if w is None:
            raise AssertionError(f"no top-level window titled {self.title!r} for pid {self.pid}")
        event = protocol.event.ClientMessage(
            window=w, client_type=self.wm_protocols, data=(32, [self.wm_delete, X.CurrentTime, 0, 0, 0])
        )
        w.send_event(event, event_mask=X.NoEventMask)
        self.d.flush()
