// TUICore
