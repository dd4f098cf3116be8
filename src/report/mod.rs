//! Figures on how well the team answers: `/mentions stats` and the weekly report with its chart.

pub mod chart;
