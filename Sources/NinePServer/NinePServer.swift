// NinePServer
