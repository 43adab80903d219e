import NIOCore

/// The handler on each of a relay pair's two channels (client side, upstream side). It hands everything to
/// the `RelayPair` and holds back reads while the other side cannot take more bytes (backpressure).
final class RelaySideHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let side: ProxySide
    private let pair: RelayPair
    private(set) var context: ChannelHandlerContext?
    /// A read was asked for (by NIO's auto-read) while the other side was not writable.
    private(set) var readHeld = false

    init(side: ProxySide, pair: RelayPair) {
        self.side = side
        self.pair = pair
    }

    var channel: (any Channel)? { context?.channel }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let pair = self.pair, side = self.side
        context.channel.closeFuture.assumeIsolated().whenComplete { _ in pair.sideInactive(side) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        pair.sideActive(side)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pair.sideInactive(side)
        context.fireChannelInactive()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pair.received(unwrapInboundIn(data), from: side)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        pair.readComplete(from: side)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            pair.inputEnded(side)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pair.failed(side, error)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pair.becameWritable(side) }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if pair.mayRead(side) {
            context.read()
        } else {
            readHeld = true
        }
    }

    /// Resumes a held read (the other side drained, or it connected).
    func resumeReading() {
        guard readHeld, let context else { return }
        readHeld = false
        context.read()
    }

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }
    var isActive: Bool { context?.channel.isActive ?? false }
}
