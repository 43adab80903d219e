extension Fcall {
    /// The canonical one-line text (fcallfmt style): `Twalk tag 3 fid 1 newfid 2 nwname 2 0:usr 1:bin`.
    public var canonicalLine: String { message.name + " tag " + tag.description }
}
