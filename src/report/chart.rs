//! The weekly report's chart as a PNG: one bar per day, as tall as the mentions received, green
//! for answered and red for still unanswered, with the median time to answer as a blue line
//! (scaled to the tallest bar). It draws no text, so it needs no fonts on the machine: the
//! report's caption carries the numbers and the dates.

use plotters::backend::BitMapBackend;
use plotters::prelude::*;

use crate::domain::stats::ChartDay;

pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 400;
const MARGIN: i32 = 20;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot draw the chart: {0}")]
    Draw(String),
    #[error("cannot encode the chart as PNG: {0}")]
    Encode(#[from] png::EncodingError),
}

/// The chart for `days`, encoded as PNG, `WIDTH` x `HEIGHT` pixels.
pub fn render(days: &[ChartDay]) -> Result<Vec<u8>, ChartError> {
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw(days, &mut pixels).map_err(|error| ChartError::Draw(error.to_string()))?;
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(png_bytes)
}

fn draw<'a>(
    days: &[ChartDay],
    pixels: &'a mut [u8],
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = BitMapBackend::with_buffer(pixels, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let (width, height) = (WIDTH as i32 - 2 * MARGIN, HEIGHT as i32 - 2 * MARGIN);
    let bottom = MARGIN + height;
    root.draw(&PathElement::new(
        vec![(MARGIN, bottom), (MARGIN + width, bottom)],
        BLACK.stroke_width(1),
    ))?;
    if days.is_empty() {
        root.present()?;
        return Ok(());
    }
    let tallest = days
        .iter()
        .map(|day| day.received)
        .max()
        .unwrap_or(0)
        .max(1) as i32;
    let slowest = days
        .iter()
        .filter_map(|day| day.median_minutes)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = width / days.len() as i32;
    let bar = (slot * 2 / 3).max(1);
    let scale = |count: usize| (count as i32 * height) / tallest;
    let mut line = Vec::new();
    for (index, day) in days.iter().enumerate() {
        let left = MARGIN + index as i32 * slot + (slot - bar) / 2;
        let answered_top = bottom - scale(day.answered);
        let received_top = bottom - scale(day.received);
        root.draw(&Rectangle::new(
            [(left, answered_top), (left + bar, bottom)],
            GREEN.filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(left, received_top), (left + bar, answered_top)],
            RED.filled(),
        ))?;
        if let Some(minutes) = day.median_minutes {
            let y = bottom - (minutes * i64::from(height) / slowest) as i32;
            line.push((left + bar / 2, y));
        }
    }
    if line.len() > 1 {
        root.draw(&PathElement::new(line.clone(), BLUE.stroke_width(3)))?;
    }
    for point in line {
        root.draw(&Circle::new(point, 4, BLUE.filled()))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(offset: u32, received: usize, answered: usize, median: Option<i64>) -> ChartDay {
        ChartDay {
            date: chrono::NaiveDate::from_ymd_opt(2026, 3, 16 + offset).unwrap(),
            received,
            answered,
            median_minutes: median,
        }
    }

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(bytes).read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer).unwrap();
        (info, buffer)
    }

    fn pixel(buffer: &[u8], x: u32, y: u32) -> [u8; 3] {
        let at = ((y * WIDTH + x) * 3) as usize;
        [buffer[at], buffer[at + 1], buffer[at + 2]]
    }

    #[test]
    fn the_png_decodes_at_the_expected_size_with_bars_where_the_figures_say() {
        let days: Vec<ChartDay> = vec![
            day(0, 10, 10, Some(30)),
            day(1, 4, 2, Some(90)),
            day(2, 0, 0, None),
            day(3, 6, 0, None),
        ];
        let (info, buffer) = decode(&render(&days).unwrap());
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        // Four slots of 190 px; bars are centred in them. Day 0 is all answered: green low down.
        let slot = (WIDTH - 40) / 4;
        let centre = |index: u32| 20 + index * slot + slot / 2;
        let near_bottom = HEIGHT - 25;
        assert_eq!(pixel(&buffer, centre(0) - 10, near_bottom), [0, 255, 0]);
        // Day 3 has nothing answered: red all the way down.
        assert_eq!(pixel(&buffer, centre(3), near_bottom), [255, 0, 0]);
        // Day 2 received nothing: white above the axis.
        assert_eq!(pixel(&buffer, centre(2), near_bottom), [255, 255, 255]);
        // Day 1: 4 of 10 received, 2 answered; top half of its bar red, bottom green.
        let height = HEIGHT - 40;
        let bottom = 20 + height;
        assert_eq!(
            pixel(&buffer, centre(1) - 20, bottom - height * 3 / 10),
            [255, 0, 0]
        );
        assert_eq!(
            pixel(&buffer, centre(1) - 20, bottom - height / 10),
            [0, 255, 0]
        );
    }

    #[test]
    fn an_empty_week_still_draws() {
        let (info, _) = decode(&render(&[]).unwrap());
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
    }
}
