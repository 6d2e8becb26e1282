/// Valid reports of several incident types, with most of the schema's groups filled.
enum SampleReports {
  static let lines: [String] = [
    #"{"id":"S-1","type":"attack","occurred_at":"2016-03-05T09:40:00+02:00","reported_at":"2016-03-05T10:00:00.25-00:00","confidence":"confirmed","lang":"ar","source":{"org":"SNHR","kind":"ngo"},"location":{"governorate":"Idlib","place":"معرة النعمان","lat":35.643,"lon":36.674,"populated":true,"besieged":false},"perpetrator":{"name":"القوات الجوية","party":"government"},"target":{"type":"market"},"weapons":["barrel_bomb","shelling"],"casualties":{"killed":9,"injured":21,"civilians_killed":9,"children_killed":2},"narrative":"سقوط برميلين متفجرين على السوق"}"#,
    #"{"id":"S-2","type":"access","occurred_at":"2016-03-02T12:00:00Z","source":{"org":"OCHA","kind":"un"},"location":{"governorate":"Rif Dimashq","place":"Madaya","besieged":true},"access":{"request_id":"REQ-00042","requested_by":"WFP","modality":"cross_border","crossing":"باب السلامة","status":"denied","submitted_at":"2016-03-01","items_removed":["medical","surgical"]},"extra":{"a":[1,{"b":null}]}}"#,
    #"{"id":"S-3","type":"trade","occurred_at":"2015-12-01T00:00:00Z","source":{"org":"UNESCO","kind":"un"},"location":{"governorate":"Deir ez-Zor"},"trade":{"commodity":"antiquities","seller":{"name":"داعش","party":"isil"},"buyer":{"name":"broker"},"origin_country":"SY","removed_at":"2014-06-01","value_usd":25000.5}}"#,
    #"{"id":"S-4","type":"detention","occurred_at":"2016-04-01T08:00:00Z","source":{"org":"HRW","kind":"ngo"},"location":{"governorate":"Raqqa"},"perpetrator":{"name":"Jabhat al-Nusra","party":"nusra"},"detention":{"count":3,"kind":"hostage","ransom_demanded":true,"victims":["child","journalist"]}}"#,
    #"{"id":"S-5","type":"displacement","occurred_at":"2016-05-01T08:00:00Z","source":{"org":"UNHCR","kind":"un"},"location":{"governorate":"Aleppo","place":"حلب"},"displacement":{"count":1e3,"direction":"return","voluntary":false}}"#,
  ]
}
