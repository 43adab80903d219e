// InspectorCore — the inspector's pure model: the exchange store fed by the session tracker, the
// filtered list and its cursor, the filter language, statistics, the command registry and key map,
// theme roles, and formatters that return text with roles (never colours).
import NinePWire
import NinePSession

// ConnectionID, Direction and FrameMarks come from NinePWire and are shared by every layer.
