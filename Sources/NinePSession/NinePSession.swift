// NinePSession
