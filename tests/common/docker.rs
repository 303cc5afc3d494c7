//! A client of the real Docker daemon for the tests that load, build and remove images there.

use bollard::Docker;

/// A runtime and a client that answered a version negotiation (the test fails if none does:
/// callers first ask `require_docker`).
pub fn connect() -> (tokio::runtime::Runtime, Docker) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let docker = rt.block_on(async {
        Docker::connect_with_defaults()
            .expect("docker client")
            .negotiate_version()
            .await
            .expect("dockerd answers")
    });
    (rt, docker)
}
