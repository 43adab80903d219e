#if canImport(Glibc)
import Glibc
#endif

/// A C library function that Swift's Glibc module does not export (GNU extensions, malloc.h), looked up
/// in the running process; `F` is its `@convention(c)` type. Nil where the C library lacks it.
public func cFunction<F>(_ name: String) -> F? {
    #if canImport(Glibc)
    guard let symbol = dlsym(nil, name) else { return nil }
    return unsafeBitCast(symbol, to: F.self)
    #else
    return nil
    #endif
}
