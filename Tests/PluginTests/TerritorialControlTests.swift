import Testing
import VigilCore
import VigilPlugins

/// The places plugin's `control` items and the functions `control(location)` and
/// `control_note(location)`, on a small fixture of its own (the shipped data is tested
/// with the catalogue, in ShippedRulesTests and TerritorialControlCasesTests).
@Suite("Territorial control: who held a place on a date")
struct TerritorialControlTests {
  static let entries = """
    - control: manbij_isil
      names: [Manbij, منبج]
      governorate: Aleppo
      point: {lat: 36.5281, lon: 37.9549, radius_km: 5}
      designated: [ISIL]
      others: []
      from: 2014-01-23
      to: 2016-08-12
      source: "Manbij offensive (2016)"
    - control: manbij_sdf
      names: [Manbij, منبج]
      designated: []
      others: [SDF]
      from: 2016-08-12
      source: "Manbij offensive (2016)"
    - control: idlib_city
      names: [Idlib, إدلب]
      designated: [Nusra Front]
      others: [Ahrar al-Sham, Faylaq al-Sham]
      from: 2015-03-28
      source: "Second Battle of Idlib"
    - control: raqqa_governorate
      governorate: Raqqa
      designated: [ISIL]
      others: []
      from: 2014-01-13
      to: 2017-01-01
      source: "a whole-governorate entry, for the fallback"
    - control: damascus_governorate
      governorate: Damascus
      designated: []
      others: [Syrian government]
      from: 2011-03-15
      source: "a whole-governorate entry whose name is inside another's (Rural Damascus)"
    - control: idlib_governorate
      governorate: Idlib
      designated: [Nusra Front]
      others: []
      from: 2015-03-28
      source: "a whole-governorate entry, named in one spelling of several"
    - control: damascus
      names: [Damascus, دمشق]
      designated: []
      others: [Syrian government]
      from: 2011-03-15
      source: "Damascus"
    - rule: t.control
      desc: Shows control.
      condition: type = attack
      output: "%{%control(location)|unknown}%{: %control_note(location)}"
      priority: info
      examples:
        match: [{type: attack}]
    """

  static func load(_ text: String) -> Result<RuleSet, RuleSetErrors> {
    RuleSetLoader(plugins: [Designations(), Places()]).load([
      RuleSource(path: "Rules/control.yaml", name: "control.yaml", contents: Array(text.utf8))
    ])
  }

  /// (occurred_at, location members, the message)
  static let cases: [(String, String, String)] = [
    ("2016-08-11", #""place":"Manbij""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    // `to` is the first day no longer held so.
    ("2016-08-12", #""place":"Manbij""#, "others"),
    ("2016-08-11T23:30:00+03:00", #""place":"مدينة منبج""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2014-01-22", #""place":"Manbij""#, "unknown"),
    // The date in Syria, whatever the offset: 22:30 UTC on 11 August was 01:30 on the 12th
    // in Damascus (UTC+3 in summer), and 00:30 at +05:00 on the 12th was 22:30 on the 11th.
    ("2016-08-11T22:30:00Z", #""place":"Manbij""#, "others"),
    ("2016-08-11T20:00:00-05:00", #""place":"Manbij""#, "others"),
    ("2016-08-12T00:30:00+05:00", #""place":"Manbij""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-08-11T20:59:59Z", #""place":"Manbij""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-08-11T21:00:00Z", #""place":"Manbij""#, "others"),
    // By coordinates, whatever the place name says; outside every circle, by name.
    ("2016-06-01", #""place":"Damascus","lat":36.53,"lon":37.96"#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Damascus","lat":33.51,"lon":36.29"#, "others"),
    (
      "2016-05-30", #""place":"Idlib city","governorate":"Idlib""#,
      "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"
    ),
    // A governorate alone, when no place matches.
    ("2016-06-01", #""governorate":"Ar-Raqqa Governorate""#, "designated: Raqqa was held by ISIL alone (control: raqqa_governorate)"),
    ("2016-06-01", #""place":"Tabqa","governorate":"Raqqa""#, "designated: Raqqa was held by ISIL alone (control: raqqa_governorate)"),
    ("2016-06-01", #""place":"Kafr Nabudah""#, "unknown"),
    // Governorates compared as the atlas knows them: any spelling, and never a name inside another's.
    ("2016-06-01", #""governorate":"Rural Damascus""#, "unknown"),
    ("2016-06-01", #""governorate":"Damascus Countryside""#, "unknown"),
    ("2016-06-01", #""governorate":"دمشق""#, "others"),
    ("2016-06-01", #""governorate":"إدلب""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""governorate":"Idleb Governorate""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    // Coordinates outside every circle, without a governorate: the governorate they are in.
    ("2016-06-01", #""lat":35.95,"lon":39.01"#, "designated: Raqqa was held by ISIL alone (control: raqqa_governorate)"),
    // "Town, Governorate": the first part that names a place decides, not both.
    ("2016-06-01", #""place":"Manbij, Aleppo""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Manbij","governorate":"حلب""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    // … but a name in another governorate than its entry's is another place of that name:
    // judged by what the report's governorate says, not by the listed Manbij.
    ("2016-06-01", #""place":"Manbij, Idlib""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Manbij","governorate":"Idleb""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"منبج، الرقة""#, "designated: Raqqa was held by ISIL alone (control: raqqa_governorate)"),
    // Words that say it is in the town, not what town: the town.
    ("2016-06-01", #""place":"central Idlib""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"inside Idlib""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"in the city of Idlib""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"وسط إدلب""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"داخل مدينة منبج""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"centre of Idlib""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"the city centre of Idlib""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    // The town, then its countryside without a separator, as Arabic reports write it.
    ("2016-06-01", #""place":"مدينة منبج بريف حلب الشرقي""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"منبج في ريف حلب""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Manbij in the eastern Aleppo countryside""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Manbij in rural Aleppo""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    // A text naming a governorate alone, or its countryside, is judged by the entries for
    // the whole governorate (audit 53: none covered it).
    ("2016-06-01", #""place":"Idlib Governorate""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"محافظة إدلب""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"ريف إدلب""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Idlib countryside""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Raqqa countryside""#, "designated: Raqqa was held by ISIL alone (control: raqqa_governorate)"),
    ("2016-06-01", #""place":"Raqqa""#, "designated: Raqqa was held by ISIL alone (control: raqqa_governorate)"),
    // Damascus's countryside is Rural Damascus, which no entry covers here, not the city's.
    ("2016-06-01", #""place":"countryside of Damascus""#, "unknown"),
    ("2016-06-01", #""place":"Jobar, the countryside of Damascus""#, "unknown"),
    // The countryside alone is no town; a village in a governorate's countryside is judged
    // by the governorate's holders, as "Kafr Nabudah, Idlib" is.
    ("2016-06-01", #""place":"ريف منبج""#, "unknown"),
    ("2016-06-01", #""place":"Kafr Nabudah in rural Idlib""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    // A direction of the country says no more of where than the country.
    ("2016-06-01", #""place":"Idlib, northern Syria""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"إدلب، شمال غرب سوريا""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"Idlib in northern Syria""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"إدلب في شمال سوريا""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    // A direction alone is where in the governorate: not the city.
    ("2016-06-01", #""place":"Idlib - North""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    // The last place before the countryside, after a site in it; a countryside that is a
    // governorate's is that governorate.
    ("2016-06-01", #""place":"a market in Manbij in the Aleppo countryside""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Manbij in the Idlib countryside""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"منبج بريف إدلب الشمالي""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    // A site in the town (a market, a hospital), before or after its name, or
    // joined to it: the town. Not when the site word is read into a name ("Ein" is no "in").
    ("2016-06-01", #""place":"Manbij market""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"the market in Manbij""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"hospital of Manbij""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"سوق منبج""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"مشفى منبج الوطني""#, "unknown"),
    ("2016-06-01", #""place":"منبج - السوق""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Idlib city, market""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"Idlib countryside market""#, "unknown"),
    ("2016-06-01", #""place":"a market in Manbij""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    // Not a gate of the market (the site word with its article), nor a site in a
    // governorate: "hospital, Idlib" is in Idlib governorate, as "Kafr Nabudah, Idlib" is.
    ("2016-06-01", #""place":"Bab al-Souq""#, "unknown"),
    ("2016-06-01", #""place":"باب السوق""#, "unknown"),
    ("2016-06-01", #""place":"hospital, Idlib""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Idlib - school""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    // A later part that is a governorate's name is the governorate, not its city: an
    // unlisted village there is not judged by the city's holders, but by the governorate's.
    ("2016-06-01", #""place":"Kafr Nabudah, Idlib""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Kafr Nabudah, Idlib city""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"Idlib, Idlib""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    // Written from the widest, "Governorate - Town" is the town, in either script; an
    // unlisted one is judged by the governorate's holders, not its city's.
    ("2016-06-01", #""place":"Aleppo - Manbij""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"حلب - منبج""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Idlib - Kafr Nabudah""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Idlib""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    // A part that is only a kind word, or the country, is no part: these are the city.
    ("2016-06-01", #""place":"Idlib (city)""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"Idlib, Syria""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"Idlib Syria""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    // "in" says where, not what: in Idlib city is Idlib; near it is not.
    ("2016-06-01", #""place":"in Idlib city""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"في مدينة إدلب""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"near Idlib""#, "unknown"),
    ("2016-06-01", #""place":"فى مدينة إدلب""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"\u200Fفِي إدلب""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"Idlib-Syria""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    // … and what is left is what is looked up as a governorate: these run from the widest,
    // an unlisted village judged by the governorate's holders, not the city's.
    ("2016-06-01", #""place":"in Idlib - Kafr Nabudah""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"في إدلب - كفر نبودة""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Idlib Syria - Kafr Nabudah""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"إدلب، سوريا""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    ("2016-06-01", #""place":"Idlib - city centre""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    // Widest first with a comma, or any dash, as datasets write admin paths: the place
    // after the governorate decides, else the governorate, never its city.
    ("2016-06-01", #""place":"Aleppo, Manbij""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Idlib, Kafr Nabudah""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Idlib – Kafr Nabudah""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Idlib/Kafr Nabudah""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    ("2016-06-01", #""place":"Idlib, Idlib countryside""#, "designated: Idlib was held by Nusra Front alone (control: idlib_governorate)"),
    // A bracket qualifies what comes before it: the city.
    ("2016-06-01", #""place":"Idlib (Kafr Nabudah)""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    // … unless an entry names what the bracket holds: then it is that place, in the governorate.
    ("2016-06-01", #""place":"Aleppo (Manbij)""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"حلب (منبج)""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    // Damascus's governorate is the city, first or last.
    ("2016-06-01", #""place":"Damascus - Jobar""#, "others"),
    // … and found as the governorate where the report gives none of its own.
    ("2016-06-01", #""place":"Ain Issa, Ar-Raqqa""#, "designated: Raqqa was held by ISIL alone (control: raqqa_governorate)"),
    ("2016-06-01", #""place":"Ain Issa, Raqqa Governorate","governorate":"Aleppo""#, "unknown"),
    // Damascus governorate is the city: a later "Damascus" is the city.
    ("2016-06-01", #""place":"Jobar, Damascus""#, "others"),
    // A point inside a circle with no entry for that day gives way to the name.
    ("2013-06-01", #""place":"Damascus","lat":36.53,"lon":37.96"#, "others"),
    ("2016-06-01", "", "unknown"),
    // One name however it is written in Latin letters, or run together in Arabic.
    ("2016-06-01", #""place":"El-Manbej""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Edleb""#, "shared: Idlib was held by Nusra Front together with Ahrar al-Sham and Faylaq al-Sham (control: idlib_city)"),
    // Parts are separated by the Arabic semicolon and by square brackets too.
    ("2016-06-01", #""place":"منبج؛ حلب""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
    ("2016-06-01", #""place":"Manbij [Aleppo]""#, "designated: Manbij was held by ISIL alone (control: manbij_isil)"),
  ]

  @Test(arguments: cases)
  func answers(_ occurredAt: String, _ location: String, _ expected: String) throws {
    let set = try Self.load(Self.entries).get()
    let line = #"{"id":"C-1","occurred_at":"\#(occurredAt)","type":"attack","location":{\#(location)}}"#
    let report = try ReportParser.parse(line).get().report
    #expect(set.evaluate(report).map(\.message) == [expected])
  }

  /// Damascus governorate is the city: a later "Damascus" names the city's entry, where a
  /// later "Raqqa" would be the governorate.
  @Test func aLaterDamascusIsTheCity() throws {
    let entries = Self.entries.replacingOccurrences(
      of: "  names: [Damascus, دمشق]\n  designated: []", with: "  names: [Damascus, دمشق]\n  designated: [ISIL]")
    #expect(entries != Self.entries)
    let set = try Self.load(entries).get()
    let line = #"{"id":"C-1","occurred_at":"2016-06-01","type":"attack","location":{"place":"Jobar, Damascus"}}"#
    let messages = set.evaluate(try ReportParser.parse(line).get().report).map(\.message)
    #expect(messages.count == 1 && messages[0].hasSuffix("(control: damascus)"), "\(messages)")
  }

  /// The messages of the errors `text` loads with; nil (recorded) when it loads.
  static func errorMessages(_ text: String) -> [String]? {
    guard case .failure(let errors) = load(text) else {
      Issue.record("loaded: \(text)")
      return nil
    }
    return errors.errors.map(\.message)
  }

  /// Loads `text` (control entries and a rule whose message is what control says) and
  /// expects each location's message on 1 June 2016.
  static func expectControl(of text: String, _ cases: [(location: String, expected: String)]) throws {
    let set = try load(text).get()
    for (location, expected) in cases {
      let line = #"{"id":"C-1","occurred_at":"2016-06-01","type":"attack","location":{\#(location)}}"#
      #expect(set.evaluate(try ReportParser.parse(line).get().report).map(\.message) == [expected], "\(location)")
    }
  }

  /// Damascus city and Rural Damascus, its suburbs, are one governorate to a name:
  /// reports write "Damascus" for either.
  @Test func aNameInDamascusOrItsCountrysideIsOnePlace() throws {
    let text = """
      - control: darayya
        names: [Darayya, داريا]
        governorate: Rural Damascus
        others: [opposition]
        from: 2012-11-08
        to: 2016-08-27
        source: s
      - rule: t.control
        desc: Shows control.
        condition: type = attack
        output: "%{%control(location)|unknown}"
        priority: info
      """
    try Self.expectControl(
      of: text,
      [
        (#""place":"Darayya, Damascus""#, "others"), (#""place":"داريا، ريف دمشق""#, "others"),
        (#""place":"Darayya","governorate":"Damascus""#, "others"), (#""place":"Darayya, Homs""#, "unknown"),
      ])
  }

  /// One name for towns in two governorates, and nothing in the report to tell which: the
  /// holders of neither are the report's place's (they were merged into "held together",
  /// audit 48). The governorate, or a later part naming it, tells which.
  @Test func aNameOfTwoGovernoratesTellsNothingWithoutOne() throws {
    let text = """
      - control: salma_latakia
        names: [Salma]
        governorate: Latakia
        designated: [ISIL]
        from: 2014-01-01
        source: s
      - control: salma_idlib
        names: [Salma]
        governorate: Idlib
        others: [SDF]
        from: 2014-01-01
        source: s
      - rule: t.control
        desc: Shows control.
        condition: type = attack
        output: "%{%control(location)|unknown}"
        priority: info
      """
    try Self.expectControl(
      of: text,
      [(#""place":"Salma""#, "unknown"), (#""place":"Salma, Latakia""#, "designated"), (#""place":"Salma","governorate":"Idlib""#, "others")])
  }

  /// Entries for one place found by a name each lists, whatever each lists first, overlap;
  /// one name in two governorates is two places, and does not.
  @Test func entriesSharingANameInOneGovernorateOverlap() {
    let shared =
      "- control: a\n  names: [Manbij, Menbij]\n  governorate: Aleppo\n  designated: [ISIL]\n  from: 2014-01-01\n  source: s\n"
      + "- control: b\n  names: [Menbij]\n  others: [SDF]\n  from: 2016-01-01\n  source: s\n"
    let errors = Self.errorMessages(shared)
    #expect(errors?.contains { $0.hasPrefix("control b overlaps control a") } == true, "\(errors ?? [])")
    let twoPlaces =
      "- control: a\n  names: [Salma]\n  governorate: Latakia\n  others: [B]\n  from: 2014-01-01\n  source: s\n"
      + "- control: b\n  names: [Salma]\n  governorate: Idlib\n  others: [C]\n  from: 2014-01-01\n  source: s\n"
    #expect(throws: Never.self) { try Self.load(twoPlaces).get() }
    // Damascus and Rural Damascus are one to a name, and so to the check.
    let suburbs =
      "- control: a\n  names: [Yarmouk]\n  governorate: Damascus\n  others: [B]\n  from: 2014-01-01\n  source: s\n"
      + "- control: b\n  names: [Yarmouk]\n  governorate: Rural Damascus\n  others: [C]\n  from: 2015-01-01\n  source: s\n"
    let suburbErrors = Self.errorMessages(suburbs)
    #expect(suburbErrors?.contains { $0.hasPrefix("control b overlaps control a") } == true, "\(suburbErrors ?? [])")
    // A name with a kind word is the name a report finds it by: "Manbij city" is Manbij,
    // and a report of "Manbij city" would get both entries.
    for other in ["Manbij city", "مدينة منبج", "the city of Manbij"] {
      let kindWord =
        "- control: a\n  names: [Manbij, منبج]\n  governorate: Aleppo\n  designated: [ISIL]\n  from: 2014-01-01\n  source: s\n"
        + "- control: b\n  names: [\(other)]\n  governorate: Aleppo\n  others: [SDF]\n  from: 2016-06-01\n  source: s\n"
      let kindErrors = Self.errorMessages(kindWord)
      #expect(kindErrors?.contains { $0.hasPrefix("control b overlaps control a") } == true, "\(other): \(kindErrors ?? [])")
    }
    // A name of several parts is found whole: "Sheikh Maqsoud, Aleppo" is not Aleppo.
    let quarter =
      "- control: a\n  names: [Aleppo, Aleppo city]\n  governorate: Aleppo\n  others: [B]\n  from: 2014-01-01\n  source: s\n"
      + "- control: b\n  names: [\"Sheikh Maqsoud, Aleppo\", Sheikh Maqsoud]\n  governorate: Aleppo\n  others: [C]\n  from: 2015-01-01\n  source: s\n"
    #expect(throws: Never.self) { try Self.load(quarter).get() }
  }

  /// A key given twice is said once, as defined twice, and not also as an overlap.
  @Test func aKeyGivenTwiceIsOneError() {
    let twice =
      "- control: a\n  names: [A]\n  others: [B]\n  from: 2014-01-01\n  source: s\n"
      + "- control: a\n  names: [A]\n  others: [B]\n  from: 2014-01-01\n  source: s\n"
    let errors = Self.errorMessages(twice)
    #expect(errors == ["control a is already defined at Rules/control.yaml:1:3"], "\(errors ?? [])")
    // Said beside the repeating item's own problems too.
    let twiceAndWrong =
      "- control: a\n  names: [A]\n  others: [B]\n  from: 2014-01-01\n  source: s\n"
      + "- control: a\n  names: [A]\n  others: [B]\n  from: 2014-01-01\n"
    let both = Self.errorMessages(twiceAndWrong) ?? []
    #expect(both.contains("control a is already defined at Rules/control.yaml:1:3"), "\(both)")
    #expect(both.contains { $0.hasPrefix("a control needs 'source'") }, "\(both)")
  }

  /// A holder under `designated` that no designation names, or a designated group's name
  /// under `others`, is an error at the name (audit 53: ISIL under `others` made an attack
  /// in its town a ceasefire violation, the Free Syrian Army under `designated` silenced
  /// one, and the set loaded); names the designations read as a group's pass, and a set
  /// listing no designations, or loaded without their plugin, is not checked.
  @Test func holdersAreCheckedAgainstTheDesignations() throws {
    let designations =
      "- designation: isil\n  names: [ISIL, Daesh, الدولة الإسلامية]\n"
      + "- designation: nusra\n  names: [al-Nusra Front, Jabhat al-Nusra]\n"
    let control =
      "- control: a\n  names: [A]\n  designated: [Daesh, Free Syrian Army]\n  others: [Syrian government, ISIL]\n"
      + "  from: 2014-01-01\n  source: s\n"
      + "- control: b\n  names: [B]\n  designated: [Jabhat al-Nusra, ISIL]\n  others: [Ahrar al-Sham, Free Syrian Army]\n"
      + "  from: 2014-01-01\n  source: s\n"
    let sources = [
      RuleSource(path: "Rules/designations.yaml", name: "designations.yaml", contents: Array(designations.utf8)),
      RuleSource(path: "Rules/control.yaml", name: "control.yaml", contents: Array(control.utf8)),
    ]
    guard case .failure(let errors) = RuleSetLoader(plugins: [Designations(), Places()]).load(sources) else {
      Issue.record("loaded with a designated group among others")
      return
    }
    #expect(
      errors.errors.map(\.description) == [
        "Rules/control.yaml:3:23: control a lists 'Free Syrian Army' as designated, but no designation names it "
          + "(designated() is false for it): a misspelling, or a holder to list under 'others'",
        "Rules/control.yaml:4:31: control a lists 'ISIL' among others, but it names a designated group "
          + "(designated() is true for it): list it under 'designated'",
      ])
    // Each one mended, the set loads.
    let mended = control.replacingOccurrences(of: ", Free Syrian Army]", with: "]")
      .replacingOccurrences(of: "[Syrian government, ISIL]", with: "[Syrian government]")
    let mendedSources = [sources[0], RuleSource(path: "Rules/control.yaml", name: "control.yaml", contents: Array(mended.utf8))]
    _ = try RuleSetLoader(plugins: [Designations(), Places()]).load(mendedSources).get()
    // Nothing to check against: no designation listed, or their plugin off.
    _ = try RuleSetLoader(plugins: [Designations(), Places()]).load([sources[1]]).get()
    _ = try RuleSetLoader(plugins: [Places()]).load([sources[1]]).get()
  }

  /// (the item, the error's line:column, the start of its message)
  static let mistakes: [(String, String, String)] = [
    ("- control: x\n  names: [A]\n  others: [B]\n  from: 2016-01-01\n", "1:3", "a control needs 'source'"),
    ("- control: x\n  names: [A]\n  others: [B]\n  from: 2016-13-01\n  source: s\n", "4:9", "control from must be a date"),
    ("- control: x\n  names: [A]\n  from: 2016-01-01\n  source: s\n", "1:3", "a control needs who held the place"),
    ("- control: x\n  others: [B]\n  from: 2016-01-01\n  source: s\n", "1:3", "a control needs a place"),
    (
      "- control: x\n  governorate: Not A Governorate\n  others: [B]\n  from: 2016-01-01\n  source: s\n", "2:16",
      "a control's governorate 'Not A Governorate' is none of Syria's governorates (Damascus, Aleppo,"
    ),
    (
      "- control: a\n  governorate: Idlib\n  others: [B]\n  from: 2016-01-01\n  source: s\n"
        + "- control: b\n  governorate: إدلب\n  designated: [C]\n  from: 2016-06-01\n  source: s\n",
      "6:3", "control b overlaps control a"
    ),
    ("- control: x\n  names: [A]\n  others: [B]\n  from: 2016-01-01\n  source: s\n  held: [C]\n", "6:3", "unknown key 'held' in a control"),
    ("- control: x\n  names: [A]\n  others: [B]\n  from: 2016-02-01\n  to: 2016-01-01\n  source: s\n", "1:3", "a control's 'to' (2016-01-01) must come after"),
    (
      "- control: x\n  point: {lat: 36, lon: 37, radius_km: 0}\n  others: [B]\n  from: 2016-01-01\n  source: s\n", "2:40",
      "control point radius_km must be a number"
    ),
    (
      "- control: a\n  names: [Manbij]\n  others: [B]\n  from: 2016-01-01\n  source: s\n"
        + "- control: b\n  names: [manbij]\n  designated: [C]\n  from: 2016-06-01\n  to: 2016-07-01\n  source: s\n",
      "6:3", "control b overlaps control a"
    ),
    // The same point under other names is the same place: found by its coordinates first.
    (
      "- control: a\n  names: [Palmyra]\n  point: {lat: 34.56, lon: 38.2672, radius_km: 3}\n  designated: [ISIL]\n  from: 2015-05-21\n  source: s\n"
        + "- control: b\n  names: [Tadmur]\n  point: {lat: 34.56, lon: 38.2672, radius_km: 3}\n  others: [B]\n  from: 2016-01-01\n  source: s\n",
      "7:3", "control b overlaps control a"
    ),
  ]

  /// While control entries have errors, examples are not judged: their verdicts would be
  /// those of the entries missing, and one bad date would read as many failing examples.
  @Test func aBadEntryIsTheOnlyErrorNotTheExamplesThatNeedIt() {
    let text = """
      - control: manbij_isil
        names: [Manbij]
        designated: [ISIL]
        from: 2014-01-23
        to: 2016-08-32
        source: s
      - rule: probe.designated
        desc: d
        condition: control(location) = designated
        output: o
        priority: info
        examples:
          match: [{type: attack, occurred_at: 2016-06-01, location: {place: Manbij}}]
      """
    guard case .failure(let errors) = Self.load(text) else {
      Issue.record("loaded")
      return
    }
    #expect(errors.errors.map(\.description) == [#"Rules/control.yaml:5:7: control to must be a date YYYY-MM-DD, got "2016-08-32""#])
  }

  /// A rule file that cannot be read as YAML is the only error too: the examples of other
  /// files that need its entries are not judged without them.
  @Test func anUnreadableFileIsTheOnlyErrorNotTheExamplesThatNeedIt() {
    let rule = """
      - rule: probe.designated
        desc: d
        condition: control(location) = designated
        output: o
        priority: info
        examples:
          match: [{type: attack, occurred_at: 2016-06-01, location: {place: Manbij}}]
      """
    let control = "- control: manbij_isil\n  names: [Manbij\n  designated: [ISIL]\n"
    let result = RuleSetLoader(plugins: [Designations(), Places()]).load([
      RuleSource(path: "Rules/ceasefire.yaml", name: "ceasefire.yaml", contents: Array(rule.utf8)),
      RuleSource(path: "Rules/control.yaml", name: "control.yaml", contents: Array(control.utf8)),
    ])
    guard case .failure(let errors) = result else {
      Issue.record("loaded")
      return
    }
    #expect(errors.errors.count == 1 && errors.errors[0].description.hasPrefix("Rules/control.yaml:"), "\(errors)")
  }

  /// A key written with a bad value is that error alone, not also a key missing.
  @Test func aBadValueIsNotAlsoAMissingKey() {
    for (item, expected) in [
      ("- control: x\n  names: [A]\n  others: [B]\n  from: 2016-02-30\n  source: s\n", "control from must be a date"),
      ("- control: x\n  names: [A]\n  others: [B]\n  from: 2016-01-01\n  source: \"\"\n", "control source"),
    ] {
      guard case .failure(let errors) = Self.load(item) else {
        Issue.record("loaded: \(item)")
        continue
      }
      #expect(errors.errors.count == 1 && errors.errors[0].message.hasPrefix(expected), "\(errors)")
    }
  }

  @Test(arguments: mistakes)
  func refuses(_ item: String, _ place: String, _ message: String) {
    guard case .failure(let errors) = Self.load(item) else {
      Issue.record("loaded: \(item)")
      return
    }
    #expect(
      errors.errors.contains { $0.description.contains("Rules/control.yaml:\(place): ") && $0.message.hasPrefix(message) },
      "\(errors)")
  }
}
