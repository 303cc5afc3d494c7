fn main() {
    std::process::exit(bathyscaphe::app::run());
}
