// InspectorCore
