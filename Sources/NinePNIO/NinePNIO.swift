// NinePNIO
