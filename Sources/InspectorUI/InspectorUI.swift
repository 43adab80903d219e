// InspectorUI
