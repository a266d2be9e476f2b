//! Reference data: the public services (LeiKa keys, OZG services) with
//! their names, and Germany's municipalities and districts with AGS, name,
//! Land and population. Read here from the official publication formats,
//! so that operators can load newer editions (`allmende data import`):
//!
//! - **GV100AD**, Destatis' municipality directory: fixed-width lines of
//!   220 characters, ISO-8859-1 or UTF-8. Record type 10 is a Land, 40 a
//!   district (Kreis), 60 a municipality (Gemeinde) with area and
//!   population; other types are skipped. A district's population is the
//!   sum of its municipalities'.
//! - **LeiKa export** (CSV): a column with the 14-digit key (header
//!   "Schlüssel", "LeiKa-Schlüssel" or "Leistungsschlüssel") and one with
//!   the name ("Bezeichnung", "Leistungsbezeichnung" or "Name").
//! - **OZG catalogue export** (CSV): "OZG-ID" and "OZG-Leistung" (or
//!   "Bezeichnung"), optionally "Themenfeld".
//! - the two files shipped with Allmende (see `docs/data-sources.md`).
//!
//! A file is read whole before anything is stored: any wrong line makes
//! the whole import fail, with the line numbers, and nothing half-imported.

use std::collections::HashMap;

use crate::{Bundesland, LeikaKey, OzgId, ServiceKey, Themenfeld};

/// The districts shipped with Allmende: Destatis' GV-ISys, 31.12.2018,
/// via the npm package `landkreise-deutschland` 3.0.0 (see
/// `docs/data-sources.md`).
pub const SHIPPED_DISTRICTS: &str = include_str!("../data/kreise.csv");
/// The municipalities shipped: the Regionalstatistik's region list, via
/// the PyPI package `datenguidepy` 0.4.1 (dl-de/by-2-0).
pub const SHIPPED_MUNICIPALITIES: &str = include_str!("../data/gemeinden.csv");

/// A service with its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    pub key: ServiceKey,
    pub name: String,
    pub themenfeld: Option<Themenfeld>,
}

/// What a place is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceLevel {
    Land,
    Kreis,
    Gemeinde,
}

impl PlaceLevel {
    pub fn slug(self) -> &'static str {
        match self {
            PlaceLevel::Land => "land",
            PlaceLevel::Kreis => "kreis",
            PlaceLevel::Gemeinde => "gemeinde",
        }
    }
}

/// A Land, district or municipality: `ags` has 2, 5 or 8 digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlaceEntry {
    pub ags: String,
    pub name: String,
    pub level: PlaceLevel,
    pub land: Bundesland,
    pub population: Option<u64>,
}

/// What a file held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dataset {
    Services(Vec<ServiceEntry>),
    Places(Vec<PlaceEntry>),
}

/// The formats [`parse`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Gv100ad,
    Leika,
    Ozg,
    /// `AGS;type;name;…;population;…` (the districts file shipped).
    Districts,
    /// `region_id,name,level,parent` (the municipalities file shipped).
    Regions,
}

impl Format {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "gv100ad" => Some(Format::Gv100ad),
            "leika" => Some(Format::Leika),
            "ozg" => Some(Format::Ozg),
            "districts" => Some(Format::Districts),
            "regions" => Some(Format::Regions),
            _ => None,
        }
    }

    /// Guesses the format from the first line.
    pub fn detect(text: &str) -> Option<Self> {
        let first = text.lines().next()?.trim_start_matches('\u{feff}');
        let header = first.to_lowercase();
        let digits = first.chars().take(10).all(|c| c.is_ascii_digit());
        if digits && first.chars().count() >= 22 {
            Some(Format::Gv100ad)
        } else if header.starts_with("ags;") && header.contains("population") {
            Some(Format::Districts)
        } else if header.starts_with("region_id,") {
            Some(Format::Regions)
        } else if header.contains("ozg") {
            Some(Format::Ozg)
        } else if header.contains("leika")
            || header.contains("schlüssel")
            || header.contains("schluessel")
        {
            Some(Format::Leika)
        } else {
            None
        }
    }
}

/// A wrong line, numbered from 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// At most this many errors are reported; a file in the wrong format
/// would otherwise produce one per line.
const ERRORS_MAX: usize = 20;

/// Text of a file: UTF-8, or else ISO-8859-1 (what Destatis publishes).
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Reads a whole file; every wrong line is reported, nothing is returned
/// then.
pub fn parse(text: &str, format: Format) -> Result<Dataset, Vec<LineError>> {
    let text = text.trim_start_matches('\u{feff}');
    match format {
        Format::Gv100ad => gv100ad(text).map(Dataset::Places),
        Format::Districts => districts(text).map(Dataset::Places),
        Format::Regions => regions(text).map(Dataset::Places),
        Format::Leika => services(text, Format::Leika).map(Dataset::Services),
        Format::Ozg => services(text, Format::Ozg).map(Dataset::Services),
    }
}

fn error(line: usize, message: impl Into<String>) -> LineError {
    LineError {
        line,
        message: message.into(),
    }
}

fn finish<T>(rows: Vec<T>, errors: Vec<LineError>) -> Result<Vec<T>, Vec<LineError>> {
    if !errors.is_empty() {
        return Err(errors);
    }
    if rows.is_empty() {
        return Err(vec![error(0, "the file holds no records")]);
    }
    Ok(rows)
}

fn land_of(ags: &str) -> Option<Bundesland> {
    ags.get(..2).and_then(Bundesland::from_key)
}

fn gv100ad(text: &str) -> Result<Vec<PlaceEntry>, Vec<LineError>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut kreis_population: HashMap<String, u64> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || errors.len() >= ERRORS_MAX {
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let field = |from: usize, to: usize| -> String {
            chars
                .get(from..to.min(chars.len()))
                .map(|c| c.iter().collect::<String>())
                .unwrap_or_default()
        };
        let satzart = field(0, 2);
        if !matches!(satzart.as_str(), "10" | "20" | "30" | "40" | "50" | "60") {
            errors.push(error(
                n,
                format!("record type {satzart:?} is not one of GV100AD's (10 to 60)"),
            ));
            continue;
        }
        if chars.len() < 72 {
            errors.push(error(
                n,
                format!(
                    "{} characters; a GV100AD record has at least 72",
                    chars.len()
                ),
            ));
            continue;
        }
        let (land, rb, kreis, gem) = (field(10, 12), field(12, 13), field(13, 15), field(19, 22));
        let name = field(22, 72).trim().to_owned();
        let (ags, level) = match satzart.as_str() {
            "10" => (land.clone(), PlaceLevel::Land),
            "40" => (format!("{land}{rb}{kreis}"), PlaceLevel::Kreis),
            "60" => (format!("{land}{rb}{kreis}{gem}"), PlaceLevel::Gemeinde),
            _ => continue,
        };
        if !ags.chars().all(|c| c.is_ascii_digit()) {
            errors.push(error(n, format!("key {ags:?} is not all digits")));
            continue;
        }
        let Some(bundesland) = land_of(&ags) else {
            errors.push(error(
                n,
                format!("Land key {land:?} is not one of 01 to 16"),
            ));
            continue;
        };
        if name.is_empty() {
            errors.push(error(n, "no name"));
            continue;
        }
        let population = if level == PlaceLevel::Gemeinde {
            let raw = field(139, 150);
            let raw = raw.trim();
            if raw.is_empty() {
                None
            } else {
                match raw.parse::<u64>() {
                    Ok(p) => {
                        *kreis_population.entry(ags[..5].to_owned()).or_default() += p;
                        Some(p)
                    }
                    Err(_) => {
                        errors.push(error(
                            n,
                            format!("population {raw:?} (characters 140–150) is not a number"),
                        ));
                        continue;
                    }
                }
            }
        } else {
            None
        };
        rows.push(PlaceEntry {
            ags,
            name,
            level,
            land: bundesland,
            population,
        });
    }
    for row in &mut rows {
        if row.level == PlaceLevel::Kreis {
            row.population = kreis_population.get(&row.ags).copied();
        }
    }
    finish(rows, errors)
}

/// CSV records with their line numbers; the delimiter is guessed from the
/// header (`;` as German exports use, tab or `,`).
/// A CSV file: its lowercased header, and each record with its line.
struct Csv {
    headers: Vec<String>,
    records: Vec<(usize, Vec<String>)>,
}

fn csv_records(text: &str) -> Result<Csv, Vec<LineError>> {
    let header = text.lines().next().unwrap_or_default();
    let delimiter = [b';', b'\t', b',']
        .into_iter()
        .max_by_key(|d| header.matches(char::from(*d)).count())
        .unwrap_or(b';');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| vec![error(1, format!("unreadable header: {e}"))])?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line() as usize);
                records.push((line, r.iter().map(|f| f.trim().to_owned()).collect()));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                errors.push(error(line, e.to_string()));
            }
        }
        if errors.len() >= ERRORS_MAX {
            break;
        }
    }
    if errors.is_empty() {
        Ok(Csv { headers, records })
    } else {
        Err(errors)
    }
}

fn column(headers: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|name| headers.iter().position(|h| h == name))
}

fn services(text: &str, format: Format) -> Result<Vec<ServiceEntry>, Vec<LineError>> {
    let Csv { headers, records } = csv_records(text)?;
    let (key_names, name_names): (&[&str], &[&str]) = match format {
        Format::Ozg => (
            &["ozg-id", "ozg id", "id"],
            &["ozg-leistung", "bezeichnung", "name"],
        ),
        _ => (
            &[
                "schlüssel",
                "leika-schlüssel",
                "leistungsschlüssel",
                "schluessel",
                "leika",
                "key",
            ],
            &["bezeichnung", "leistungsbezeichnung", "name"],
        ),
    };
    let missing = |what: &str, names: &[&str]| {
        vec![error(
            1,
            format!("no {what} column (one of: {})", names.join(", ")),
        )]
    };
    let key_at = column(&headers, key_names).ok_or_else(|| missing("key", key_names))?;
    let name_at = column(&headers, name_names).ok_or_else(|| missing("name", name_names))?;
    let themenfeld_at = column(&headers, &["themenfeld"]);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (line, fields) in records {
        let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or_default();
        let raw_key = get(key_at);
        let key = match format {
            Format::Ozg => OzgId::parse(raw_key).map(ServiceKey::Ozg),
            _ => LeikaKey::parse(raw_key).map(ServiceKey::Leika),
        };
        let Ok(key) = key else {
            errors.push(error(
                line,
                format!(
                    "{raw_key:?} is not a valid {}",
                    if format == Format::Ozg {
                        "OZG id (1 to 99999)"
                    } else {
                        "LeiKa key (14 digits)"
                    }
                ),
            ));
            continue;
        };
        let name = get(name_at);
        if name.is_empty() || name.chars().count() > 300 {
            errors.push(error(
                line,
                "the name is empty or longer than 300 characters",
            ));
            continue;
        }
        let themenfeld = themenfeld_at
            .map(get)
            .filter(|t| !t.is_empty())
            .and_then(|t| {
                Themenfeld::ALL
                    .iter()
                    .copied()
                    .find(|f| f.slug() == t || f.label_de() == t)
            });
        rows.push(ServiceEntry {
            key,
            name: name.to_owned(),
            themenfeld,
        });
        if errors.len() >= ERRORS_MAX {
            break;
        }
    }
    finish(rows, errors)
}

fn districts(text: &str) -> Result<Vec<PlaceEntry>, Vec<LineError>> {
    let Csv { headers, records } = csv_records(text)?;
    let (Some(ags_at), Some(name_at), Some(population_at)) = (
        column(&headers, &["ags"]),
        column(&headers, &["name"]),
        column(&headers, &["population"]),
    ) else {
        return Err(vec![error(
            1,
            "expected the columns AGS, name and population",
        )]);
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (line, fields) in records {
        let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or_default();
        let ags = get(ags_at);
        let land =
            land_of(ags).filter(|_| ags.len() == 5 && ags.chars().all(|c| c.is_ascii_digit()));
        let population = get(population_at).parse::<u64>().ok();
        match (land, population) {
            (Some(land), Some(population)) if !get(name_at).is_empty() => rows.push(PlaceEntry {
                ags: ags.to_owned(),
                name: get(name_at).to_owned(),
                level: PlaceLevel::Kreis,
                land,
                population: Some(population),
            }),
            _ => errors.push(error(
                line,
                format!("expected a 5-digit district key, a name and a population, found {ags:?}"),
            )),
        }
    }
    finish(rows, errors)
}

fn regions(text: &str) -> Result<Vec<PlaceEntry>, Vec<LineError>> {
    let Csv { headers, records } = csv_records(text)?;
    let (Some(id_at), Some(name_at), Some(level_at)) = (
        column(&headers, &["region_id"]),
        column(&headers, &["name"]),
        column(&headers, &["level"]),
    ) else {
        return Err(vec![error(
            1,
            "expected the columns region_id, name and level",
        )]);
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (line, fields) in records {
        let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or_default();
        if get(level_at) != "lau" {
            continue;
        }
        let ags = get(id_at);
        match land_of(ags).filter(|_| ags.len() == 8 && ags.chars().all(|c| c.is_ascii_digit())) {
            Some(land) if !get(name_at).is_empty() => rows.push(PlaceEntry {
                ags: ags.to_owned(),
                name: get(name_at).to_owned(),
                level: PlaceLevel::Gemeinde,
                land,
                population: None,
            }),
            _ => errors.push(error(
                line,
                format!("expected an 8-digit AGS and a name, found {ags:?}"),
            )),
        }
    }
    finish(rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GV100AD record: type, date, key parts, name, population.
    fn record(satzart: &str, key: &str, name: &str, population: Option<u64>) -> String {
        let (land, rb, kreis, gem) = (
            &key[..2],
            key.get(2..3).unwrap_or(" "),
            key.get(3..5).unwrap_or("  "),
            key.get(5..8).unwrap_or("   "),
        );
        let mut line = format!("{satzart}20241231{land}{rb}{kreis}    {gem}{name:<50}");
        line.push_str(&" ".repeat(128 - line.chars().count()));
        line.push_str(&format!("{:>11}", 100));
        match population {
            Some(p) => line.push_str(&format!("{p:>11}")),
            None => line.push_str(&" ".repeat(11)),
        }
        line.push_str(&" ".repeat(220 - line.chars().count()));
        line
    }

    #[test]
    fn gv100ad_gives_municipalities_and_district_sums() {
        let text = [
            record("10", "08", "Baden-Württemberg", None),
            record("40", "08425", "Alb-Donau-Kreis", None),
            record("60", "08425020", "Blaustein, Stadt", Some(16_012)),
            record("60", "08425141", "Öpfingen", Some(2_401)),
        ]
        .join("\n");
        assert_eq!(Format::detect(&text), Some(Format::Gv100ad));
        let Dataset::Places(places) = parse(&text, Format::Gv100ad).unwrap() else {
            panic!("places");
        };
        assert_eq!(places.len(), 4);
        assert_eq!(places[2].ags, "08425020");
        assert_eq!(places[2].population, Some(16_012));
        assert_eq!(places[3].name, "Öpfingen");
        assert_eq!(
            places[1].population,
            Some(18_413),
            "the district sums its municipalities"
        );
        assert_eq!(places[0].level, PlaceLevel::Land);
    }

    #[test]
    fn gv100ad_errors_name_their_lines_and_nothing_is_returned() {
        let mut bad = record("60", "08425020", "Blaustein", Some(1));
        bad.replace_range(139..150, "   zwölf   ");
        let text = [
            record("40", "08425", "Alb-Donau-Kreis", None),
            bad,
            "7x".repeat(40),
        ]
        .join("\n");
        let errors = parse(&text, Format::Gv100ad).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3]);
        assert!(errors[0].message.contains("population"));
    }

    #[test]
    fn latin1_files_are_read() {
        let bytes = [b'\xd6', b'p', b'f'];
        assert_eq!(decode(&bytes), "Öpf");
        assert_eq!(decode("Öpf".as_bytes()), "Öpf");
    }

    #[test]
    fn leika_and_ozg_exports_are_read_by_their_headers() {
        let leika =
            "Leistungsschlüssel;Leistungsbezeichnung;Typ\n99041006017000;Hundesteuer Anmeldung;2\n";
        assert_eq!(Format::detect(leika), Some(Format::Leika));
        let Dataset::Services(s) = parse(leika, Format::Leika).unwrap() else {
            panic!()
        };
        assert_eq!(s[0].key.slug(), "leika:99041006017000");
        assert_eq!(s[0].name, "Hundesteuer Anmeldung");
        let ozg = "OZG-ID,OZG-Leistung,Themenfeld\n10224,Hundesteuer,Steuern & Zoll\n";
        assert_eq!(Format::detect(ozg), Some(Format::Ozg));
        let Dataset::Services(s) = parse(ozg, Format::Ozg).unwrap() else {
            panic!()
        };
        assert_eq!(s[0].key.slug(), "ozg:10224");
        assert_eq!(s[0].themenfeld, Some(Themenfeld::SteuernZoll));
    }

    #[test]
    fn csv_errors_name_lines_and_missing_columns() {
        let errors = parse(
            "Schlüssel;Bezeichnung\n99041006017000;Hundesteuer\n123;Kurz\n;Leer\n",
            Format::Leika,
        )
        .unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4]);
        let errors = parse("Schlüssel;Wert\n99041006017000;x\n", Format::Leika).unwrap_err();
        assert!(errors[0].message.contains("no name column"));
        assert!(
            parse("Schlüssel;Bezeichnung\n", Format::Leika).unwrap_err()[0]
                .message
                .contains("no records")
        );
    }

    #[test]
    fn the_shipped_files_are_read_whole() {
        let districts = SHIPPED_DISTRICTS;
        let Dataset::Places(kreise) = parse(districts, Format::detect(districts).unwrap()).unwrap()
        else {
            panic!()
        };
        assert_eq!(kreise.len(), 401);
        let regions = SHIPPED_MUNICIPALITIES;
        let Dataset::Places(gemeinden) = parse(regions, Format::detect(regions).unwrap()).unwrap()
        else {
            panic!()
        };
        assert!(gemeinden.len() > 10_000);
        assert!(gemeinden.iter().any(|g| g.ags == "08421000"));
    }
}
