/// Issue 21's table of documented places and dates, shared by the plugin tests (both
/// rules' verdicts on the shipped data) and the end-to-end replay test. The reports are
/// constructed — at the places and on the dates the sources cited in `Rules/control.yaml`
/// give — not taken from a dataset: the shipped datasets name few towns. Each is a strike
/// by a party that is not designated on a target not named as designated, after the
/// cessation of hostilities (27 Feb 2016), so that control alone decides.
public enum TerritorialControlCases {
  public enum Control: String, Sendable {
    case designated, shared, others
  }

  /// (place members of `location`, occurred_at, who held it, the deciding entry)
  public static let cases: [(String, String, Control, String)] = [
    // Designated groups alone: ceasefire.violation stays silent, the lower rule records it.
    // Battle of Raqqa (2017): ISIL's capital from Jan 2014 to 17 Oct 2017.
    (#""place":"Raqqa""#, "2016-03-15", .designated, "raqqa_city"),
    (#""place":"الرقة""#, "2016-11-20", .designated, "raqqa_city"),
    // By coordinates alone (the city centre, within 6 km).
    (#""lat":35.9506,"lon":39.0094"#, "2016-07-02", .designated, "raqqa_city"),
    // Battle of Tabqa: ISIL until the SDF took it on 10 May 2017.
    (#""place":"Tabqa""#, "2016-06-10", .designated, "tabqa_city"),
    // 2017 Mayadin offensive: ISIL until 14 Oct 2017.
    (#""place":"al-Mayadin""#, "2016-04-01", .designated, "mayadin"),
    // Abu Kamal: ISIL until 9 Nov 2017.
    (#""place":"البوكمال""#, "2016-06-19", .designated, "abu_kamal"),
    // Battle of al-Bab: ISIL until 23 Feb 2017; the last days of 2016 still ISIL's.
    (#""place":"al-Bab""#, "2016-12-30", .designated, "al_bab"),
    // Manbij offensive (2016): the SDF took the city on 12 August; the day before, ISIL's.
    (#""place":"Manbij""#, "2016-08-11", .designated, "manbij_isil"),
    (#""place":"مدينة منبج""#, "2016-06-05", .designated, "manbij_isil"),
    // A place written "Town, Governorate" is the town.
    (#""place":"Manbij, Aleppo""#, "2016-07-20", .designated, "manbij_isil"),
    // Jarablus: ISIL until Euphrates Shield took it on 24 Aug 2016.
    (#""place":"Jarablus""#, "2016-08-23", .designated, "jarablus_isil"),
    // Palmyra offensive (March 2016): ISIL until 27 Mar 2016; again from 11 Dec 2016.
    (#""place":"Palmyra""#, "2016-03-26", .designated, "palmyra_isil_2015"),
    (#""place":"تدمر""#, "2016-12-11", .designated, "palmyra_isil_2016"),
    // Battle of al-Qaryatayn (2016): ISIL until 3 Apr 2016.
    (#""place":"al-Qaryatayn""#, "2016-04-02", .designated, "qaryatayn_isil_2015"),
    // 2016 Dabiq offensive: ISIL until 16 Oct 2016.
    (#""place":"Dabiq""#, "2016-10-15", .designated, "dabiq_isil"),
    // Palmyra offensive (May 2015): ISIL took al-Sukhnah in May 2015, held it into 2017.
    (#""place":"al-Sukhnah""#, "2016-09-01", .designated, "sukhnah_isil"),
    // Maskanah and Deir Hafer: ISIL-held through 2016.
    (#""place":"Maskanah""#, "2016-10-01", .designated, "maskanah_isil"),
    (#""place":"Deir Hafer""#, "2016-11-11", .designated, "deir_hafer_isil"),
    // Yarmouk camp: ISIL and Nusra, both designated, from April 2015: designated alone.
    (#""place":"مخيم اليرموك""#, "2016-05-01", .designated, "yarmouk_camp"),
    // Hajar al-Aswad: ISIL from April 2015.
    (#""place":"Hajar al-Aswad""#, "2016-08-01", .designated, "hajar_al_aswad_isil"),

    // Designated groups together with others: ceasefire.violation fires and says so.
    // Battle of Idlib (2015): Jaysh al-Fatah (Nusra with Ahrar al-Sham and others) from 28 Mar 2015.
    (#""place":"Idlib city","governorate":"Idlib""#, "2016-05-30", .shared, "idlib_city"),
    (#""place":"إدلب""#, "2016-10-12", .shared, "idlib_city"),
    // Jisr al-Shughur, taken by Jaysh al-Fatah on 25 Apr 2015.
    (#""place":"Jisr al-Shughur""#, "2016-04-20", .shared, "jisr_al_shughur"),
    // Ariha, taken by Jaysh al-Fatah on 28 May 2015.
    (#""place":"Ariha""#, "2016-03-10", .shared, "ariha"),
    // Maarat al-Numan: Nusra beside FSA groups (the clashes of 2016; see the entry's dispute).
    (#""place":"Maarat al-Numan""#, "2016-06-01", .shared, "maarat_al_numan"),
    // Khan Shaykhun: Nusra with Jund al-Aqsa and others.
    (#""place":"Khan Shaykhun""#, "2016-09-15", .shared, "khan_shaykhun"),
    // Siege of Abu al-Duhur Airbase: taken on 9 Sep 2015, Nusra-led.
    (#""place":"Abu al-Duhur airbase""#, "2016-07-07", .shared, "abu_al_duhur_airbase"),
    // Battle of Aleppo (2012–2016): the city divided, Nusra among the rebels, until 22 Dec 2016.
    (#""place":"Al-Sukkari, Aleppo city""#, "2016-09-24", .shared, "aleppo_city_divided"),
    // Siege of Deir ez-Zor: the government enclave and ISIL's districts.
    (#""place":"Deir ez-Zor""#, "2016-09-17", .shared, "deir_ez_zor_city"),
    // 2016 Southern Aleppo campaign: al-Eis retaken by Jaysh al-Fatah on 1 Apr 2016.
    (#""place":"al-Eis""#, "2016-05-06", .shared, "al_eis"),

    // Others alone: ceasefire.violation fires, with no note.
    // Manbij from the day the SDF took it.
    (#""place":"Manbij""#, "2016-08-12", .others, "manbij_sdf"),
    // Palmyra between the government's recapture (27 Mar) and ISIL's return (11 Dec 2016).
    (#""place":"Palmyra""#, "2016-05-05", .others, "palmyra_government_2016"),
    // Jarablus from Euphrates Shield's capture (24 Aug 2016).
    (#""place":"Jarablus""#, "2016-08-24", .others, "jarablus_rebels"),
    // Dabiq after 16 Oct 2016.
    (#""place":"Dabiq""#, "2016-10-16", .others, "dabiq_rebels"),
    // al-Shaddadi offensive (2016): the SDF from 19 Feb 2016.
    (#""place":"al-Shaddadi""#, "2016-03-01", .others, "shaddadi_sdf"),
    // Kobani: YPG since 26–27 Jan 2015.
    (#""place":"Kobani""#, "2016-06-27", .others, "kobani"),
    // Tell Abyad offensive: YPG and FSA from 16 Jun 2015.
    (#""place":"Tell Abyad""#, "2016-04-04", .others, "tell_abyad"),
    // Darayya: rebel factions that were not designated, until the evacuation of 26–27 Aug 2016.
    (#""place":"Darayya""#, "2016-08-01", .others, "darayya_rebels"),
    // Douma: Jaysh al-Islam.
    (#""place":"دوما""#, "2016-03-05", .others, "douma"),
    // Aleppo after the government took the whole city (22 Dec 2016).
    (#""place":"Aleppo""#, "2016-12-25", .others, "aleppo_government_2016"),
  ]

  /// The report of case `index`: an attack with three civilians killed.
  public static func report(_ index: Int) -> String {
    let (location, occurredAt, _, _) = cases[index]
    return #"{"id":"TC-\#(index + 1)","occurred_at":"\#(occurredAt)","type":"attack","perpetrator":{"party":"coalition"},"#
      + #""target":{"type":"residential"},"location":{\#(location)},"casualties":{"civilians_killed":3}}"#
  }
}
