//! Reports over an analysed image: dive-compatible JSON with our own keys, a text report for
//! pipes, the comparison of two images and the CI evaluation in every format. Formats only;
//! every number comes from `analysis`, sizes are written by `units`.

pub mod ci;
pub mod compare_json;
pub mod compare_text;
pub mod dockerfile_writer;
pub mod html;
pub mod json;
pub mod text;
pub mod treemap;
pub mod why;
