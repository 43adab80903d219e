import Dispatch
import Foundation
import NinescopeFuzzHarness

// The libFuzzer target of `make fuzz` (Fuzz/run.sh), built with `-sanitize=fuzzer,address`: each input
// goes through the harness (Fuzz/Harness), whose broken properties are fatal errors here, so libFuzzer
// keeps the input. `NinescopeFuzz --seeds DIR` (from the repository's root) writes the starting corpus
// instead.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let done = DispatchSemaphore(value: 0)
    Task {
        await FuzzHarness.run(input)
        done.signal()
    }
    done.wait()
    return 0
}

// SwiftPM links an executable's `main` to `NinescopeFuzz_main`; it hands over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("NinescopeFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    let arguments = (0..<Int(argc)).map { String(cString: argv![$0]!) }
    if arguments.count == 3, arguments[1] == "--seeds" { return writeSeeds(arguments) }
    var count = argc
    var vector = argv
    return runDriver(&count, &vector) { fuzzOne($0, $1) }
}

/// `--seeds DIR`: every seed of the repository (run from its root: `FuzzSeeds.all`) into DIR.
func writeSeeds(_ arguments: [String]) -> CInt {
    let directory = arguments[2]
    let seeds = FuzzSeeds.all(root: FileManager.default.currentDirectoryPath)
    for seed in seeds
    where !FileManager.default.createFile(atPath: directory + "/" + seed.name, contents: Data(seed.input)) {
        print("cannot write \(directory)/\(seed.name)")
        return 1
    }
    print("\(seeds.count) seeds in \(directory)")
    return 0
}
