fn main() {
    std::process::exit(bathyscaphe::cli_front::run());
}
