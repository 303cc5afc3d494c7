//! Analyses over the image model and the merged tree: dive's numbers, true waste, and (in
//! their own modules) leftovers, stages and comparisons. No I/O and no terminal here.

pub mod capture;
pub mod ci_rules;
pub mod compare;
pub mod dive;
pub mod dockerfile;
pub mod estimates;
pub mod findings;
pub mod fsview;
pub mod leftovers;
pub mod packages;
pub mod secrets;
pub mod stages;
pub mod suggest;
pub mod waste;
pub mod why;

use crate::image::Image;
use crate::tree::MergedTree;

/// Everything measured about one image, computed once and shared by the front ends.
#[derive(Debug)]
pub struct Analysis {
    pub merged: MergedTree,
    pub dive: dive::DiveMetrics,
    pub waste: waste::TrueWaste,
}

impl Analysis {
    pub fn run(image: &Image) -> Analysis {
        let (merged, dive) = rayon::join(|| MergedTree::build(image), || dive::dive_metrics(image));
        let waste = waste::true_waste(image, &merged);
        Analysis {
            merged,
            dive,
            waste,
        }
    }
}
