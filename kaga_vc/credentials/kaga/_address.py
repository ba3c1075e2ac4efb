"""Japanese addresses: prefectures (JIS X 0401) and the municipalities of Ishikawa (JIS X 0402)."""

from __future__ import annotations

# JIS X 0401 prefecture codes.
PREFECTURE_CODES: dict[str, str] = {
    name: f"{index:02d}"
    for index, name in enumerate(
        ["北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"],
        start=1,
    )
}

# JIS X 0402 codes (five digits, without the check digit) of Ishikawa's municipalities, so an
# address in the prefecture needs no code typed in; elsewhere the code is given explicitly.
ISHIKAWA_MUNICIPALITIES: dict[str, str] = {
    "金沢市": "17201",
    "七尾市": "17202",
    "小松市": "17203",
    "輪島市": "17204",
    "珠洲市": "17205",
    "加賀市": "17206",
    "羽咋市": "17207",
    "かほく市": "17209",
    "白山市": "17210",
    "能美市": "17211",
    "野々市市": "17212",
    "川北町": "17324",
    "津幡町": "17361",
    "内灘町": "17365",
    "志賀町": "17384",
    "宝達志水町": "17386",
    "中能登町": "17407",
    "穴水町": "17461",
    "能登町": "17463",
}

KAGA_PREFECTURE = "石川県"
KAGA_MUNICIPALITY = "加賀市"
KAGA_MUNICIPALITY_CODE = "17206"
ADDRESS_PARTS = ("prefecture", "municipality", "town", "block")
