// Placeholder entry point: replaced by the real command.
@main struct Placeholder { static func main() {} }
