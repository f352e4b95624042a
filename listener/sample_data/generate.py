"""Write the bundled sample feed for the fictional brand Komorebi Tea (木漏れ日ティー).

The wording of every post is written by hand below; the script only assembles ids, authors,
timestamps and threads with a seeded random generator, so running it again reproduces
`sample_feed.jsonl` and `sample_feed_meta.csv` byte for byte.

Run: ``python -m listener.sample_data.generate`` (or ``--out DIR`` to write elsewhere).
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import html
import io
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SEED = 20261101
HERE = Path(__file__).resolve().parent
FEED_NAME = "sample_feed.jsonl"
META_NAME = "sample_feed_meta.csv"
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 14, 23, 59, 59, tzinfo=UTC)
SPIKE_DAY = datetime(2026, 11, 9, tzinfo=UTC)  # a delayed shipment batch: the negative spike

BRAND = {
    "x": {
        "id": "1500000000000000001",
        "username": "komorebi_tea",
        "name": "Komorebi Tea 木漏れ日ティー",
        "created_at": "2022-03-15T02:00:00.000Z",
        "public_metrics": {
            "followers_count": 8412,
            "following_count": 311,
            "tweet_count": 5230,
        },
    },
    "reddit": {"author": "KomorebiTeaCo", "author_fullname": "t2_kmrb01"},
    "bluesky": {
        "did": "did:plc:komorebitea000000000001",
        "handle": "komorebitea.bsky.social",
        "displayName": "Komorebi Tea 木漏れ日ティー",
    },
    "mastodon": {
        "id": "109000000000000001",
        "username": "komorebi",
        "acct": "komorebi",
        "display_name": "Komorebi Tea 木漏れ日ティー",
        "url": "https://mastodon.social/@komorebi",
    },
}

# --------------------------------------------------------------------------------------
# Hand-written wording. An entry is a text, or (text, sentiment) where the sentiment
# differs from its group's default.
# --------------------------------------------------------------------------------------

Entry = str | tuple[str, str]

NEED_INTENT = {
    "shipping_abroad": "product_question",
    "order_tracking": "order_status",
    "returns_broken": "returns_refunds",
    "subscription_pause": "billing_account",
    "gift_wrapping": "product_question",
    "payment_methods": "billing_account",
    "discount_code": "technical_issue",
    "brewing_matcha": "product_question",
    "restock": "product_question",
    "caffeine": "product_question",
}

NEEDS: dict[str, dict[str, list[Entry]]] = {
    "shipping_abroad": {
        "en": [
            "do you ship to canada?? and how long does it usually take",
            "Hi! Does the shop ship to Germany, and will I have to pay customs on top?",
            "wondering if I'll get hit with import fees ordering matcha to the UK 🤔",
            "Is international shipping available to Australia? Would love to order the hojicha",
            "pls tell me you ship to the US now 🙏",
            "trying to figure out the shipping cost to France for two tins and a kyusu",
            "Ordering from Singapore — are duties included in the price or paid on delivery?",
        ],
        "ja": [
            "海外在住なんだけど、アメリカにも発送してもらえますか？",
            "台湾の友達にプレゼントしたいんだけど海外発送ってやってる？",
            "イギリスに住んでる姉に送りたい〜関税ってかかるのかな",
            "海外配送の送料っていくらくらいなんだろ…教えてほしい",
            "ドイツ在住です🇩🇪 抹茶を注文したいけど海外発送対応してますか",
            "海外発送できるなら今すぐポチりたいw",
            "シンガポールまで何日くらいで届くか知りたいです🙏",
        ],
    },
    "order_tracking": {
        "en": [
            "where is my order?? placed it last week and no tracking yet",
            ("still waiting on my order", "negative"),
            "can someone check order #KT-20418 for me, tracking hasn't moved in 4 days",
            "how do I track my subscription box? the email has no tracking link",
            (
                "ordered matcha for my mom's birthday on Saturday and it still says processing 😬",
                "negative",
            ),
            "Is there a way to see when my order will ship? Need it before Friday",
            "my tracking number says label created since monday... is it actually shipped",
        ],
        "ja": [
            ("注文したのにまだ届かないんだけど…", "negative"),
            "追跡番号ってどこで見れますか？",
            "先週注文したほうじ茶、発送されたか確認したいです",
            ("記念日のために買ったのにまだ届かない😢 いつ届くの", "negative"),
            "発送メールが来ないんだけど注文ちゃんと通ってるのかな",
            "明日までに届けてほしいんだけど間に合いますか…！",
            "配送状況を教えてほしい🙏 注文番号KT-20377です",
        ],
    },
    "returns_broken": {
        "en": [
            (
                "my kyusu arrived with a cracked lid 😭 how do I get a replacement",
                "negative",
            ),
            "what's your return policy? the tumbler is the wrong colour",
            ("teapot came broken. box was fine, pot was in pieces", "negative"),
            "can I return an unopened tin of sencha if I ordered the wrong one?",
            "need to send back the gift set, it was a duplicate present. how does that work",
            ("broken teapot again. do I send photos somewhere?", "negative"),
            "Is there a refund if the matcha whisk is damaged on arrival",
        ],
        "ja": [
            "返品したい",
            ("急須が割れて届きました…交換ってできますか", "negative"),
            "間違えて煎茶を2つ頼んじゃった。未開封なら返品できる？",
            ("届いたタンブラーにヒビ入ってたんだけど😭", "negative"),
            "返金の手続きってどうやるのか教えてほしいです",
            "ギフトセットの茶碗が欠けてた…写真送ればいいのかな？",
            "返品ポリシーどこに書いてありますか",
        ],
    },
    "subscription_pause": {
        "en": [
            "how do I pause my monthly box while I'm traveling in December?",
            "want to cancel the subscription, can't find the button anywhere",
            "can I skip one month of the tea subscription?",
            "is there a way to pause the box instead of cancelling",
            "Need to cancel my subscription before the next billing date pls",
            "moving house next month, can I hold my subscription box",
            "How do I stop the subscription renewing? it's in my account but greyed out",
        ],
        "ja": [
            "定期便を一時停止したいんだけど、どこからできますか？",
            "サブスク解約したい",
            "来月だけお休みってできる？",
            "定期便の解約方法がわからない…教えてほしい",
            "引っ越すので定期便をしばらく止めたいです",
            "次の請求日の前に解約したいんですがどうすれば",
            "サブスクのスキップ機能ってありますか〜？",
        ],
    },
    "gift_wrapping": {
        "en": [
            "do you do gift wrapping? it's for our wedding guests 💍",
            "can I add a gift message card to the order?",
            "is there a gift box option for the matcha set, it's a birthday present",
            "Wondering if you can ship directly to my friend with no price slip inside",
            "gift wrap available for the kyusu? anniversary is next week",
            "can the invoice be left out? sending it as a present",
            "do the gift sets come wrapped or do I need to add something at checkout",
        ],
        "ja": [
            "ギフトラッピングってお願いできますか？",
            "のし付けてもらえるのかな？お歳暮にしたい",
            "誕生日プレゼント用に包装してほしいんだけど🎁",
            "メッセージカードつけられる？",
            "母の誕生日に送りたいので金額のわかる明細は入れないでほしいです",
            "結婚式の引き出物に使いたい！ラッピング対応してますか",
            "プレゼント用の紙袋もらえるか知りたい",
        ],
    },
    "payment_methods": {
        "en": [
            "can I pay with PayPal?",
            "do you take Apple Pay or just cards",
            "which payment methods do you accept? my card keeps getting declined",
            "Is there a buy now pay later option for the teapot",
            "paying from abroad, is paypal ok or only japanese cards",
            "do you accept amex",
            "can I pay by bank transfer instead of card",
        ],
        "ja": [
            "PayPay使えますか？",
            "コンビニ払いってできる？",
            "支払い方法って何がありますか",
            "クレカ持ってないんだけど代引きできるのかな",
            "PayPayで払いたいんだけど選択肢に出てこない…",
            "楽天ペイ対応してほしい〜 使えないよね？",
            "コンビニ決済の期限っていつまでか教えてほしい",
        ],
    },
    "discount_code": {
        "en": [
            ("discount code not working 🙃 WELCOME10 says invalid", "negative"),
            "the promo code from the newsletter doesn't apply at checkout, am I doing something wrong",
            "is the 15% code still valid? it keeps getting rejected",
            "first order here, where do I put the coupon code",
            (
                "code BLACKFRIDAY isn't being accepted?? it's literally on your banner",
                "negative",
            ),
            "can I use a discount code on the subscription box too",
            "my code applied but the total didn't change",
        ],
        "ja": [
            "クーポンコードが使えないんだけど…",
            "割引コード入れたのに反映されない😭",
            "メルマガのクーポンってどこで入力するの？",
            "初回クーポンって定期便にも使えますか",
            ("クーポン無効って出る。期限内なのに😡", "negative"),
            "割引コード入力欄が見つからないです",
            "クーポン適用されてるか分からない、教えてほしい",
        ],
    },
    "brewing_matcha": {
        "en": [
            "what temperature should the water be for the gyokuro?",
            "how much matcha per cup? my first time making it 🍵",
            "how many grams of matcha for a latte",
            "sencha tastes bitter every time, water too hot maybe?",
            "whats the right steeping time for the hojicha",
            "first time buying matcha — any tips on how to whisk it without lumps",
            "does the kyusu need a special water temp or just boiling",
        ],
        "ja": [
            "抹茶って1杯に何グラムくらい？",
            "煎茶のお湯の温度って何度がいいの？",
            "初めて抹茶買ったんだけど点て方わからん🤔",
            "ほうじ茶は熱湯でいいのかな",
            "抹茶ラテにするなら何gがおすすめか知りたい",
            "玉露の淹れ方教えてほしいです",
            "何回淹れても苦くなる…温度高すぎ？w",
        ],
    },
    "restock": {
        "en": [
            "when will the ceremonial matcha be back in stock?",
            "the black kyusu is sold out again 😩 any restock date",
            "will you restock the sakura sencha this year",
            "Is the yuzu gift set coming back? need it before Christmas",
            "any chance the stainless tumbler gets restocked soon",
            "sold out everywhere. please tell me the uji matcha is coming back",
            "can I get notified when the hojicha latte powder is back",
        ],
        "ja": [
            "抹茶の再入荷っていつですか？",
            "黒い急須また売り切れてる😭 再販ある？",
            "桜煎茶の再入荷待ってます",
            "柚子のギフトセット、クリスマスまでに再販してほしい…",
            "ほうじ茶ラテの粉いつ戻ってくるのかな",
            "タンブラー再入荷通知ってできますか",
            "宇治抹茶ずっと在庫切れなんだけど再入荷予定教えてほしい",
        ],
    },
    "caffeine": {
        "en": [
            "how much caffeine is in the hojicha? trying to cut down",
            "is the matcha ok to drink in the evening or will it keep me up",
            "pregnant and wondering which of your teas are low caffeine",
            "does the genmaicha have less caffeine than coffee?",
            "any decaf options?",
            "caffeine content of the sencha vs the matcha? asking for my sleep",
            "which tea would you recommend for kids, low caffeine",
        ],
        "ja": [
            "ほうじ茶ってカフェイン少ないですか？",
            "妊娠中でも飲めるお茶ありますか",
            "夜に抹茶飲んでも大丈夫かな、カフェイン気になる",
            "カフェインレスの商品ってある？",
            "煎茶とほうじ茶どっちがカフェイン少ないの",
            "子どもに飲ませても平気なお茶教えてほしい",
            "抹茶のカフェイン量ってコーヒーと比べてどう？",
        ],
    },
}

# One-off product questions that do not recur (no FAQ cluster should form around them).
MISC_QUESTIONS: dict[str, list[Entry]] = {
    "en": [
        "is the kyusu dishwasher safe?",
        "what's the difference between the ceremonial and culinary matcha",
        "does the tumbler keep tea hot for a whole workday",
        "are the tins recyclable?",
        "do you have a physical store in Kyoto I could visit?",
        "is the sencha organic certified",
        "how long does an opened tin of matcha stay fresh",
        "can the chasen be used for hojicha powder too",
        "do you offer wholesale for cafes",
        "what size is the kyusu in ml",
    ],
    "ja": [
        "急須って食洗機使える？",
        "茶筅の手入れ方法ってありますか",
        "京都に実店舗ありますか？行ってみたい",
        "抹茶の賞味期限ってどれくらい",
        "タンブラーって何時間保温できるの",
        "有機栽培のお茶ってありますか",
        "カフェ向けの業務用って取り扱ってますか",
        "急須の容量何mlか知りたい",
        "缶って詰め替え用売ってる？",
        "水出しできるお茶ってどれ？",
    ],
}

COMPLAINTS: dict[str, list[Entry]] = {
    "en": [
        "charged twice for the same order. not cool",
        "third time this happened. wrong tea in the box AGAIN",
        "support took 5 days to answer and the reply was copy paste",
        "the customer service person was honestly rude to me on chat",
        "paid for express shipping, got it in 9 days",
        "tin was half empty when it arrived??",
        "my subscription renewed after I cancelled it. annoyed",
        "the matcha was clumpy and smelled stale, expected better for the price",
        "site logged me out 3 times during checkout, gave up",
        "the tumbler leaks all over my bag. great.",
        "ordered the sakura set for my girlfriend's birthday and it showed up a day late 🙄",
        "no reply to my email from last week. hello?",
        "the kyusu lid doesn't fit properly, rattles when I pour",
        "box arrived soaked, leaves inside were damp",
        "got charged customs I was told I wouldn't have to pay",
        "wrong colour teapot and now I have to pay return shipping myself?",
        "honestly the packaging is so excessive, plastic everywhere",
        "tracking said delivered but nothing here",
        "the gift wrap was torn and crumpled, embarrassing to give",
        "price went up 30% and the tin got smaller",
        "newsletter spam every single day, unsubscribed",
        "the sencha this month tastes nothing like last month",
    ],
    "ja": [
        "二重に請求されてるんだけど…",
        "これで3回目。また違う商品が届いた",
        "問い合わせの返事が1週間来ない",
        "サポートの対応がちょっと失礼だった",
        "速達にしたのに全然早くなかった",
        "抹茶がダマだらけで香りもない。値段の割に残念",
        "解約したのにまた請求来てて草も生えない",
        "タンブラー漏れる…カバンびしょびしょ",
        "誕生日に間に合わなかった。悲しい",
        "箱が潰れて届いた",
        "急須の蓋がガタガタする",
        "茶葉が湿気てた😞",
        "ラッピングぐちゃぐちゃで渡せなかった",
        "配達完了になってるのに届いてないんだけど",
        "値上げしたのに量減ってるのひどくない",
        "メルマガ多すぎ",
        "サイト重すぎて決済できなかった",
        "届いた缶がへこんでた",
        "思ってた味と違った。リピはないかな",
        "梱包のプラごみ多すぎる",
        "問い合わせフォーム送信できないんだけど",
        "注文確認メールすら来ないの不安すぎる",
    ],
}

# Complaints about the delayed shipment batch: placed on the spike day.
SPIKE_COMPLAINTS: dict[str, list[Entry]] = {
    "en": [
        "everyone's orders delayed today?? mine was supposed to arrive yesterday",
        "shipping delay email just now. needed this for my anniversary 😞",
        "just got the 'your order is delayed' email. great timing",
        "so the whole batch is stuck? zero communication until now",
        "another delay notice. this is getting ridiculous",
        "delayed again, I ordered 10 days ago",
        "wow, 'shipping delayed indefinitely'. what does that even mean",
        "the delay email says 5-7 more days. needed it for a gift on Friday",
        "is anyone else's order stuck in the warehouse",
        "honestly disappointed, the delay ruins my birthday plans",
        "cancel my order if it's not shipping this week",
        "delay delay delay. never again",
    ],
    "ja": [
        "発送遅延のメール来た…記念日に間に合わない",
        "遅延ってマジ？もう10日待ってるんだけど",
        "今日みんなのとこにも遅延メール来てる？",
        "遅延の連絡遅すぎ😡",
        "プレゼント用だったのに遅延とか最悪",
        "倉庫で止まってるってどういうこと",
        "遅延のお知らせ、理由くらい書いてほしい",
        "明日までに欲しかったのに無理そう😭",
        "また遅延。もう頼まないかも",
        "遅延で誕生日に間に合わない、悲しすぎる",
        "遅延メール来たけどいつ届くかは書いてない",
        "今回の遅延ひどすぎない？",
    ],
}

PRAISE: dict[str, list[Entry]] = {
    "en": [
        "the hojicha is sooo good, my new evening ritual 🍂",
        "first purchase and I'm in love with the ceremonial matcha 💚",
        "packaging was gorgeous, felt like opening a present",
        "my kyusu arrived perfectly packed, thank you!",
        "the subscription box this month was 🔥",
        "support fixed my wrong order in like 10 minutes, amazing",
        "gave the gift set to my in-laws and they loved it",
        "best sencha I've had outside Japan tbh",
        "the tumbler is perfect for my commute ☕",
        "ok the yuzu sencha is unreal",
        "ordered Monday, arrived Wednesday in Ohio. impressed",
        "the handwritten thank you note 🥹",
        "my matcha lattes have never been better",
        "genmaicha smells like toasted rice heaven",
        "used the wedding favour tins for our guests, everyone asked where they were from",
        "customer service actually listens, refreshing",
        "matcha whisk set is so pretty on my shelf",
        "obsessed with the monthly box surprises",
        "quality is consistently great, 6th order now",
        "the brewing guide card was super helpful",
        "love that the tins are recyclable",
        "hojicha latte powder = my whole personality now",
    ],
    "ja": [
        "ほうじ茶めっちゃ美味しい！リピ確定✨",
        "初めて買った抹茶、香りが最高すぎる",
        "梱包が丁寧で感動した🥹",
        "急須かわいすぎて毎日使ってる",
        "定期便今月も最高だった〜",
        "サポートの対応が早くて神",
        "母の日のプレゼントにしたら大喜びでした",
        "煎茶うますぎて草",
        "タンブラー保温力すごい！",
        "柚子煎茶ハマった(*´ω`*)",
        "注文して次の日に届いた、早い！",
        "手書きのメッセージ嬉しかった",
        "抹茶ラテが家で作れる幸せ",
        "玄米茶いい香り〜癒される",
        "結婚式のプチギフトに使ったら好評でした💐",
        "問い合わせに丁寧に答えてくれてありがとう",
        "茶筅セット見た目も可愛い",
        "毎月の定期便が楽しみすぎる",
        "何回頼んでも品質安定してる",
        "淹れ方カードわかりやすかった",
        "缶がおしゃれで捨てられないw",
        "ほうじ茶ラテ毎朝飲んでる♪",
    ],
}

NEUTRAL_MENTIONS: dict[str, list[Entry]] = {
    "en": [
        "trying the sencha this afternoon",
        "just placed my first order",
        "saw their stall at the tea festival today",
        "unboxing the november subscription box later",
        "switching from coffee to matcha for a month, starting with this one",
        "my sister recommended this shop",
        "they have a new autumn hojicha blend",
        "brewing a pot of genmaicha while it rains",
        "reading about how they source their leaves from Uji",
        "the shop's blog post on kyusu types was interesting",
        "got the tumbler in grey",
        "it's on my list for holiday gifts",
        "apparently they ship from Shizuoka",
        "the matcha came in a smaller tin than I pictured",
        "they just posted their holiday schedule",
    ],
    "ja": [
        "今日は煎茶を淹れてみる",
        "初めて注文してみた",
        "お茶フェスで出店してたの見かけた",
        "定期便の11月分あとで開ける",
        "新しい秋のほうじ茶ブレンド出てる",
        "雨の日は玄米茶",
        "宇治の茶葉使ってるらしい",
        "急須の種類のブログ読んだ",
        "タンブラーはグレーにした",
        "年末のギフト候補に入れとこ",
        "静岡から発送してるみたい",
        "今日の午後は抹茶タイム",
        "友達に教えてもらったお店",
        "年末年始の営業日出てた",
        "缶のデザイン変わった？",
    ],
}

RANTS: dict[str, list[Entry]] = {
    "en": [
        "why does every tea shop think I need 14 emails a week",
        "who decided matcha should cost this much, honestly",
        "how hard is it to put a tracking link in a shipping email??",
        "can shops please stop hiding shipping costs until the last page",
        "why is it always the teapot that breaks. every. time.",
        "is it too much to ask for packaging without plastic?",
        "every 'premium' matcha brand is the same green dust at this point",
        "nothing like waiting two weeks for tea to ruin your week",
    ],
    "ja": [
        "なんでお茶屋さんってどこもメルマガ多いんだろうね",
        "抹茶高すぎない？誰が決めたのこの値段",
        "発送メールに追跡番号入れるだけなのになんでできないの",
        "送料最後まで隠すのやめてほしい",
        "なんで割れるのいつも急須なんだろ",
        "過剰包装どうにかならないのかな〜",
        "高い抹茶ってほんとに違うのか謎",
        "お茶待つだけで2週間ってなんなの",
    ],
}

COMPARISONS: dict[str, list[Entry]] = {
    "en": [
        ("honestly prefer this matcha over Ippodo's, smoother", "positive"),
        ("cheaper than Sazen but the sencha isn't as fresh", "negative"),
        "switched from Yunomi to here for the subscription, similar selection",
        ("Naoki's culinary matcha beats this one for lattes imo", "negative"),
        ("their kyusu is nicer than the one I got from Amazon", "positive"),
        "comparing them with Matcha Kari for my next order",
        (
            "shipping is way faster than the other japanese tea shops I've tried",
            "positive",
        ),
    ],
    "ja": [
        ("一保堂よりこっちの抹茶の方が好きかも", "positive"),
        ("他の店より安いけど鮮度はいまいち", "negative"),
        "ルピシアと比べてどうなんだろ",
        ("伊藤園のほうじ茶の方が香ばしい気がする", "negative"),
        ("Amazonの急須より断然こっちのがいい", "positive"),
        "次はどっちのお店で買うか迷い中",
        ("他のお茶屋さんより発送早くて助かる", "positive"),
    ],
}

SPAM: dict[str, list[str]] = {
    "en": [
        "🚀 Turn $100 into $5000 with MOONTEA coin!! DM me now 💰💰",
        "follow for follow? 🔁 I follow back 100% #f4f",
        "🎁 GIVEAWAY! Komorebi Tea is giving away 1000 teapots, click the link in bio!!",
        "crypto signals group 📈 join free, 300% gains guaranteed",
        "I made $3k this week working from home, ask me how 👇",
        "f4f l4l anyone? teatok fam 🫖",
        "FREE matcha for life!!! just verify your wallet here 👉",
        "Elon is doubling BTC today only, don't miss it 💎",
    ],
    "ja": [
        "【拡散希望】仮想通貨で月収100万円！DMください💰",
        "相互フォローしませんか？100%フォロバします🙌",
        "🎁プレゼント企画🎁 木漏れ日ティー公式が急須1000個配布中！プロフのリンクから",
        "副業で毎日3万円稼げる方法教えます👇",
        "フォロバ100 #相互フォロー",
        "今だけ無料！ビットコイン2倍キャンペーン💎",
        "在宅で簡単に稼げる！詳しくはDMで",
        "当選おめでとうございます🎉 受け取りはこちらのリンクから",
    ],
}

# Brand replies, per need or group, in each language. {name} is the author's first name.
REPLIES: dict[str, dict[str, list[str]]] = {
    "shipping_abroad": {
        "en": [
            (
                "Hi {name}! Yes, we ship worldwide 🌏 Most orders arrive in 7-12 days. Import duties depend on your "
                "country and are paid on delivery; our shipping page lists the details."
            ),
            (
                "Hi {name}, thanks for asking! We ship to your country. Duties and taxes are collected by the courier "
                "on delivery, so the price at checkout excludes them."
            ),
        ],
        "ja": [
            (
                "{name}さん、お問い合わせありがとうございます！海外発送対応しております🌏 通常7〜12日でお届けします。"
                "関税はお届け時にお支払いいただく形になります。"
            ),
            "{name}さん、ありがとうございます！海外への発送も可能です。送料は国ごとに配送ページに記載しております🍵",
        ],
    },
    "order_tracking": {
        "en": [
            "Hi {name}, sorry for the wait! Could you DM us your order number? We'll check the tracking right away.",
            (
                "Hi {name}, so sorry about this. Your order left our warehouse yesterday; the tracking link is on its "
                "way by email."
            ),
        ],
        "ja": [
            "{name}さん、お待たせしてしまい申し訳ございません。注文番号をDMでお送りいただけますか？すぐにお調べします。",
            "{name}さん、ご心配をおかけしております。ご注文は昨日出荷済みです。追跡番号をメールでお送りしました🙏",
        ],
    },
    "returns_broken": {
        "en": [
            (
                "Oh no, {name}, we're so sorry! Please send a photo with your order number and we'll ship a "
                "replacement at no cost."
            ),
            (
                "Hi {name}, unopened items can be returned within 30 days. Reply with your order number and we'll "
                "send a return label."
            ),
        ],
        "ja": [
            "{name}さん、大変申し訳ございません。お写真と注文番号をお送りいただければ、無償で交換品をお送りします。",
            "{name}さん、未開封の商品は30日以内でしたら返品いただけます。注文番号をお知らせください🙏",
        ],
    },
    "subscription_pause": {
        "en": [
            (
                "Hi {name}! You can pause or skip a month under Account → Subscription → Manage. Happy to do it for "
                "you too, just DM us."
            ),
        ],
        "ja": [
            "{name}さん、マイページ→定期便→管理から一時停止・スキップ・解約ができます。こちらで手続きすることも可能です🍵",
        ],
    },
    "gift_wrapping": {
        "en": [
            (
                "Hi {name}! Yes 🎁 choose 'gift wrapping' at checkout; you can add a message card and we never include "
                "prices in gift parcels."
            ),
        ],
        "ja": [
            (
                "{name}さん、ありがとうございます🎁 ご注文時に「ギフト包装」を選んでいただくと、メッセージカードや"
                "のしも承ります。金額の分かる明細は同梱しません。"
            ),
        ],
    },
    "payment_methods": {
        "en": [
            (
                "Hi {name}! We accept Visa, Mastercard, Amex, PayPal and Apple Pay. Bank transfer is available for "
                "orders in Japan."
            ),
        ],
        "ja": [
            "{name}さん、クレジットカード・PayPay・コンビニ払い・PayPalがご利用いただけます。代引きは現在お休み中です🙏",
        ],
    },
    "discount_code": {
        "en": [
            (
                "Hi {name}, sorry about that! Codes go in the 'discount' box on the last checkout page and can't be "
                "combined with sale items. DM us and we'll apply it manually."
            ),
        ],
        "ja": [
            (
                "{name}さん、ご不便をおかけしております。クーポンは決済画面の「割引コード」欄にご入力ください。"
                "反映されない場合はDMいただければこちらで適用します。"
            ),
        ],
    },
    "brewing_matcha": {
        "en": [
            (
                "Hi {name}! 🍵 About 2 g of matcha (1 tsp) with 70 ml of water at 80 °C. Sencha likes 70-80 °C for "
                "60 seconds; hojicha is happy with boiling water."
            ),
        ],
        "ja": [
            "{name}さん、抹茶は約2g（茶杓2杯）に80℃のお湯70mlが目安です🍵 煎茶は70〜80℃で1分、ほうじ茶は熱湯でどうぞ。",
        ],
    },
    "restock": {
        "en": [
            (
                "Hi {name}! It's due back mid-December. Tap 'notify me' on the product page and we'll email you the "
                "moment it's in."
            ),
        ],
        "ja": [
            "{name}さん、12月中旬に再入荷予定です！商品ページの「入荷お知らせ」に登録いただくとメールでお知らせします✨",
        ],
    },
    "caffeine": {
        "en": [
            (
                "Hi {name}! Hojicha and genmaicha are our lowest in caffeine; matcha has the most. For evenings we'd "
                "suggest hojicha 🍂"
            ),
        ],
        "ja": [
            "{name}さん、ほうじ茶と玄米茶はカフェインが少なめです。夜にはほうじ茶がおすすめです🍂",
        ],
    },
    "complaint": {
        "en": [
            (
                "{name}, we're really sorry. That's not the experience we want for you. Could you DM us your order "
                "number so we can put this right today?"
            ),
            (
                "Hi {name}, thank you for telling us, and we apologise. A shipment batch was held at the warehouse; "
                "it ships this week and we'll refund your shipping."
            ),
        ],
        "ja": [
            "{name}さん、ご迷惑をおかけし大変申し訳ございません。注文番号をDMでお知らせいただけますか？本日中に対応いたします。",
            "{name}さん、申し訳ございません。倉庫で一部の出荷が止まっておりました。今週中に発送し、送料を返金いたします。",
        ],
    },
    "praise": {
        "en": ["Thank you so much, {name}! 💚 This made the whole team's day."],
        "ja": ["{name}さん、嬉しいお言葉ありがとうございます💚 スタッフ一同とても励みになります！"],
    },
    "question": {
        "en": ["Hi {name}, great question! We've sent you the details by DM 🍵"],
        "ja": ["{name}さん、お問い合わせありがとうございます！詳細をDMでお送りしました🍵"],
    },
}

EN_FIRST = [
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Lucas",
    "Mia",
    "Ethan",
    "Chloe",
    "Jack",
    "Sofia",
    "Leo",
    "Grace",
    "Oscar",
    "Hannah",
    "Finn",
    "Zoe",
    "Max",
    "Ella",
    "Sam",
    "Nina",
    "Ben",
    "Lily",
    "Theo",
    "Ruby",
    "Adam",
    "Maya",
    "Felix",
    "Clara",
    "Dan",
    "Julia",
    "Marco",
    "Priya",
    "Omar",
    "Lena",
    "Tom",
    "Aisha",
    "Pierre",
    "Ingrid",
    "Kai",
]
EN_LAST = list("ABCDEFGHJKLMNPRSTVWZ")
JA_FIRST = [
    ("さくら", "sakura"),
    ("ゆうき", "yuuki"),
    ("まいまい", "maimai"),
    ("はると", "haruto"),
    ("あおい", "aoi"),
    ("りん", "rin"),
    ("そうた", "souta"),
    ("ひなた", "hinata"),
    ("めい", "mei"),
    ("けんじ", "kenji"),
    ("みさき", "misaki"),
    ("たくみ", "takumi"),
    ("なな", "nana"),
    ("ゆい", "yui"),
    ("かな", "kana"),
    ("りょう", "ryou"),
    ("ちひろ", "chihiro"),
    ("あや", "aya"),
    ("しょう", "shou"),
    ("もも", "momo"),
    ("えり", "eri"),
    ("だいき", "daiki"),
    ("ほのか", "honoka"),
    ("ゆか", "yuka"),
    ("こうへい", "kouhei"),
    ("まり", "mari"),
    ("つばさ", "tsubasa"),
    ("あかり", "akari"),
    ("ひろ", "hiro"),
    ("のぞみ", "nozomi"),
]
JA_DECOR = [
    "",
    "🌸",
    "🍵",
    "☕",
    "@お茶好き",
    "🐈",
    "✨",
    "@在宅",
    "(*´ω`*)",
    "🌙",
    "🍡",
    "🎀",
    "@抹茶部",
    "🐾",
]
EN_TZ = [-8, -5, -5, 0, 1, 1]  # US West, US East, UK, central Europe
MASTODON_EN = ["mastodon.social", "fosstodon.org", "mas.to", "hachyderm.io"]
MASTODON_JA = ["mstdn.jp", "fedibird.com", "mastodon.social", "pawoo.net"]
PLATFORM_WEIGHTS = {
    "en": {"x": 35, "reddit": 32, "bluesky": 15, "mastodon": 18},
    "ja": {"x": 52, "reddit": 5, "bluesky": 28, "mastodon": 15},
}
REDDIT_SUBS = {"en": ["tea", "matcha", "tea", "JapanTravel"], "ja": ["tea", "matcha"]}
# Local hour weights 0..23: quiet at night, busy at lunch and in the evening.
HOUR_WEIGHTS = [
    1,
    1,
    0,
    0,
    0,
    0,
    1,
    3,
    5,
    6,
    6,
    6,
    8,
    7,
    6,
    6,
    6,
    7,
    8,
    9,
    10,
    10,
    8,
    4,
]
# Brand reply delays: (lo, hi) minutes -> how many replies; a mix of fast and slow answers.
REPLY_DELAYS_MIN = {(5, 15): 22, (15, 240): 18, (240, 1440): 14, (1440, 4320): 8}
N_BRAND_REPLIES = sum(REPLY_DELAYS_MIN.values())
TWITTER_EPOCH_MS = 1288834974657
B32_SORT = "234567abcdefghijklmnopqrstuvwxyz"


@dataclass
class Person:
    """One human behind one or more platform accounts (same display name on each)."""

    lang: str
    display: str
    first: str
    slug: str
    tz: int
    platforms: list[str]
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Item:
    """One post in the feed before it is rendered as a platform payload."""

    lang: str
    text: str
    kind: str  # customer | brand_reply | spam
    group: str
    need: str = ""
    intent: str = "other"
    is_question: bool = False
    sentiment: str = "neutral"
    person: Person | None = None
    platform: str = ""
    created: datetime = START
    parent: Item | None = None
    external_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _entries(group: str, by_lang: dict[str, list[Entry]], default_sentiment: str, **kw: Any) -> list[Item]:
    """Turn hand-written entries into items with their labels."""
    items = []
    for lang, entries in by_lang.items():
        for entry in entries:
            text, sentiment = (entry, default_sentiment) if isinstance(entry, str) else entry
            items.append(Item(lang=lang, text=text, group=group, sentiment=sentiment, **kw))
    return items


def build_items() -> list[Item]:
    """Every customer and spam post, labelled, in a fixed order."""
    items: list[Item] = []
    for need, by_lang in NEEDS.items():
        items += _entries(
            "need",
            by_lang,
            "neutral",
            kind="customer",
            need=need,
            intent=NEED_INTENT[need],
            is_question=True,
        )
    items += _entries(
        "misc",
        MISC_QUESTIONS,
        "neutral",
        kind="customer",
        intent="product_question",
        is_question=True,
    )
    items += _entries("complaint", COMPLAINTS, "negative", kind="customer", intent="complaint")
    items += _entries("spike", SPIKE_COMPLAINTS, "negative", kind="customer", intent="complaint")
    items += _entries("praise", PRAISE, "positive", kind="customer", intent="praise")
    items += _entries("neutral", NEUTRAL_MENTIONS, "neutral", kind="customer")
    items += _entries("rant", RANTS, "negative", kind="customer", intent="complaint")
    items += _entries("comparison", COMPARISONS, "neutral", kind="customer")
    items += _entries("spam", dict(SPAM), "neutral", kind="spam")
    return items


class Ids:
    """Deterministic, unique identifiers in each platform's own format."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.reddit_counter = int("1qa000", 36)
        self.seq = 0

    def _unique(self, make: Any) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def digits(self, n: int, first: str = "1") -> str:
        return self._unique(lambda: first + "".join(self.rng.choice("0123456789") for _ in range(n - 1)))

    def b36(self, n: int) -> str:
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        return self._unique(lambda: "".join(self.rng.choice(alphabet) for _ in range(n)))

    def did(self) -> str:
        return self._unique(lambda: "did:plc:" + "".join(self.rng.choice(B32_SORT) for _ in range(24)))

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def tweet(self, when: datetime) -> str:
        ms = int(when.timestamp() * 1000)
        return self._unique(lambda: str(((ms - TWITTER_EPOCH_MS) << 22) | (self._next_seq() % 4096)))

    def toot(self, when: datetime) -> str:
        ms = int(when.timestamp() * 1000)
        return self._unique(lambda: str((ms << 16) | (self._next_seq() % 65536)))

    def tid(self, when: datetime) -> str:
        """An AT Protocol record key: microseconds and a clock id, base32-sortable."""
        micros = int(when.timestamp() * 1_000_000)
        return self._unique(lambda: _tid_string((micros << 10) | (self._next_seq() % 1024)))

    def reddit(self) -> str:
        self.reddit_counter += self.rng.randint(1, 40)
        return self._unique(lambda: _to_b36(self.reddit_counter))


def _tid_string(value: int) -> str:
    chars = []
    for _ in range(13):
        chars.append(B32_SORT[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _to_b36(n: int) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = alphabet[r] + out
    return out or "0"


def _cid(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]


def _iso_ms(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class People:
    """Makes unique people and their platform accounts."""

    def __init__(self, rng: random.Random, ids: Ids) -> None:
        self.rng = rng
        self.ids = ids
        self.displays: set[str] = set()
        self.slugs: set[str] = set()

    def new(self, lang: str, platforms: list[str]) -> Person:
        rng = self.rng
        while True:
            if lang == "en":
                first = rng.choice(EN_FIRST)
                display = rng.choice(
                    [
                        f"{first} {rng.choice(EN_LAST)}.",
                        first.lower() + rng.choice(["", " 🍵", " ☕"]),
                    ]
                )
                slug = (
                    first.lower()
                    + rng.choice(["", "_", "."])
                    + rng.choice(["tea", "", "x", "jp", ""])
                    + str(rng.randint(1, 999))
                )
                tz = rng.choice(EN_TZ)
            else:
                first, romaji = rng.choice(JA_FIRST)
                display = first + rng.choice(JA_DECOR)
                slug = (
                    romaji + rng.choice(["_", "", "0"]) + rng.choice(["cha", "tea", "", "m"]) + str(rng.randint(1, 99))
                )
                tz = 9
            if display not in self.displays and slug.replace(".", "_") not in self.slugs:
                break
        self.displays.add(display)
        self.slugs.add(slug.replace(".", "_"))
        person = Person(
            lang=lang,
            display=display,
            first=first,
            slug=slug.replace(".", "_"),
            tz=tz,
            platforms=platforms,
        )
        for platform in platforms:
            person.accounts[platform] = self._account(person, platform)
        return person

    def _account(self, person: Person, platform: str) -> dict[str, Any]:
        rng, ids = self.rng, self.ids
        if platform == "x":
            created = datetime(
                rng.randint(2010, 2025),
                rng.randint(1, 12),
                rng.randint(1, 28),
                tzinfo=UTC,
            )
            return {
                "id": ids.digits(rng.choice([9, 10, 18, 19]), first=str(rng.randint(1, 4))),
                "username": person.slug,
                "name": person.display,
                "created_at": _iso_ms(created),
                "public_metrics": {
                    "followers_count": rng.randint(3, 4000),
                    "following_count": rng.randint(10, 1500),
                    "tweet_count": rng.randint(20, 40000),
                },
            }
        if platform == "reddit":
            return {
                "author": person.slug,
                "author_fullname": "t2_" + ids.b36(rng.choice([7, 8])),
            }
        if platform == "bluesky":
            return {
                "did": ids.did(),
                "handle": f"{person.slug.replace('_', '-')}.bsky.social",
                "displayName": person.display,
            }
        instance = rng.choice(MASTODON_EN if person.lang == "en" else MASTODON_JA)
        acct = person.slug if instance == "mastodon.social" else f"{person.slug}@{instance}"
        return {
            "id": ids.digits(18, first="1"),
            "username": person.slug,
            "acct": acct,
            "display_name": person.display,
            "followers_count": rng.randint(2, 3000),
            "url": f"https://{instance}/@{person.slug}",
        }


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _assign_people(rng: random.Random, people: People, items: list[Item]) -> None:
    """Give regulars (some on two platforms) several posts each; everyone else posts once."""
    regular_platforms = {
        "en": [
            ["x", "reddit"],
            ["reddit", "mastodon"],
            ["x", "bluesky"],
            ["reddit"],
            ["x"],
            ["mastodon"],
            ["reddit"],
        ],
        "ja": [
            ["x", "bluesky"],
            ["x", "mastodon"],
            ["bluesky", "x"],
            ["x"],
            ["bluesky"],
            ["x"],
            ["mastodon"],
        ],
    }
    customers = [it for it in items if it.kind == "customer"]
    for lang, platform_sets in regular_platforms.items():
        pool = [it for it in customers if it.lang == lang and it.group != "spike"]
        rng.shuffle(pool)
        for platforms in platform_sets:
            person = people.new(lang, platforms)
            for i in range(rng.randint(3, 5)):
                item = pool.pop()
                item.person, item.platform = person, platforms[i % len(platforms)]
    for item in items:
        if item.person is not None:
            continue
        if item.kind == "spam":
            platform = rng.choice(["x", "x", "bluesky", "mastodon"])
        else:
            platform = _weighted(rng, PLATFORM_WEIGHTS[item.lang])
        item.person, item.platform = people.new(item.lang, [platform]), platform


def _assign_time(rng: random.Random, item: Item) -> None:
    """A waking-hours local time on one of the 14 days (the spike group on 11-09 UTC)."""
    assert item.person is not None
    while True:
        day = 8 if item.group == "spike" else rng.randrange(14)
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        local = START + timedelta(days=day, hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
        when = local - timedelta(hours=item.person.tz) + timedelta(milliseconds=rng.randrange(1000))
        if item.group == "spike" and when.date() != SPIKE_DAY.date():
            continue
        if START <= when <= END:
            item.created = when
            return


def _brand_mention_style(rng: random.Random, item: Item) -> None:
    """Decide how a post names the brand: an @mention (replyable on X) or just the name."""
    mention_share = {"x": 0.6, "bluesky": 0.4, "mastodon": 0.5, "reddit": 0.0}[item.platform]
    if item.kind == "spam":
        mention_share = 1.0
    item.extra["mention"] = rng.random() < mention_share
    if not item.extra["mention"] and "木漏れ日" not in item.text and "komorebi" not in item.text.lower():
        if item.lang == "en":
            item.text = rng.choice(
                [
                    "{t} (komorebi tea)",
                    "Komorebi Tea: {t}",
                    "{t} #komorebitea",
                    "komorebi tea — {t}",
                ]
            ).format(t=item.text)
        else:
            item.text = rng.choice(
                [
                    "【木漏れ日ティー】{t}",
                    "{t} #木漏れ日ティー",
                    "{t}（木漏れ日ティー）",
                ]
            ).format(t=item.text)


def _build_reddit_threads(rng: random.Random, items: list[Item]) -> None:
    """Make some Reddit posts submissions and the rest comments in earlier threads (two threads locked)."""
    submissions: list[Item] = []
    for item in sorted((it for it in items if it.platform == "reddit"), key=lambda it: it.created):
        recent = [s for s in submissions if item.created - s.created < timedelta(days=3) and s.lang == item.lang]
        if not recent or rng.random() < 0.4:
            item.extra["reddit_kind"] = "submission"
            item.extra["subreddit"] = rng.choice(REDDIT_SUBS[item.lang])
            item.extra["comments"] = []
            submissions.append(item)
            continue
        root = rng.choice(recent)
        item.extra["reddit_kind"] = "comment"
        item.extra["root"] = root
        item.parent = rng.choice(root.extra["comments"]) if root.extra["comments"] and rng.random() < 0.3 else root
        root.extra["comments"].append(item)
    with_comments = [s for s in submissions if s.extra["comments"]]
    for sub in rng.sample(with_comments, 2):
        sub.extra["locked"] = True


def _reddit_root(item: Item) -> Item:
    return item if item.extra.get("reddit_kind") == "submission" else item.extra["root"]


def _brand_person(platform: str) -> Person:
    person = Person(
        lang="en",
        display="Komorebi Tea",
        first="",
        slug="komorebi_tea",
        tz=9,
        platforms=[platform],
    )
    person.accounts[platform] = BRAND[platform]
    return person


def _add_brand_replies(rng: random.Random, items: list[Item]) -> list[Item]:
    """Brand replies to some posts, in the same thread and language, 5 minutes to 3 days later."""

    def replyable(it: Item) -> bool:
        if it.kind != "customer" or it.group in ("neutral", "comparison", "rant"):
            return False
        if it.platform == "x" and not it.extra["mention"]:
            return False
        if it.platform == "reddit" and _reddit_root(it).extra.get("locked"):
            return False
        return it.created < END - timedelta(hours=1)

    candidates = [it for it in items if replyable(it)]
    praise = [it for it in candidates if it.group == "praise"]
    others = [it for it in candidates if it.group != "praise"]
    chosen = rng.sample(others, N_BRAND_REPLIES - 8) + rng.sample(praise, 8)
    buckets = [span for span, n in REPLY_DELAYS_MIN.items() for _ in range(n)]
    rng.shuffle(buckets)
    replies = []
    for post, (lo, hi) in zip(sorted(chosen, key=lambda it: it.created), buckets, strict=True):
        delay = timedelta(minutes=rng.uniform(lo, hi))
        if post.created + delay > END:
            delay = timedelta(minutes=rng.uniform(5, (END - post.created).total_seconds() / 60))
        key = post.need or {"spike": "complaint", "misc": "question"}.get(post.group, post.group)
        assert post.person is not None
        text = rng.choice(REPLIES[key][post.lang]).format(name=post.person.first)
        reply = Item(
            lang=post.lang,
            text=text,
            kind="brand_reply",
            group="brand_reply",
            person=_brand_person(post.platform),
            platform=post.platform,
            created=post.created + delay,
            parent=post,
        )
        reply.extra["mention"] = False
        if post.platform == "reddit":
            reply.extra["reddit_kind"] = "comment"
            reply.extra["root"] = _reddit_root(post)
        if post.extra.get("visibility") == "direct":
            reply.extra["visibility"] = "direct"
        replies.append(reply)
    return replies


def _split_title(text: str) -> tuple[str, str]:
    """Reddit submissions: the first sentence is the title, the rest the self text."""
    for sep in ("? ", ". ", "! ", "？", "。", "！"):
        head, found, rest = text.partition(sep)
        if found and rest.strip():
            return (head + found).strip(), rest.strip()
    return text, ""


def _slug(title: str) -> str:
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in title.lower()).split()
    return "_".join(words)[:50].rstrip("_") or "komorebi_tea"


def _render_x(item: Item, rng: random.Random, n_replies: int) -> dict[str, Any]:
    user = item.person.accounts["x"]  # type: ignore[union-attr]
    tweet: dict[str, Any] = {
        "id": item.external_id,
        "text": item.text,
        "author_id": user["id"],
        "created_at": _iso_ms(item.created),
    }
    mentions = []
    if item.parent is not None:
        parent_user = item.parent.person.accounts["x"]  # type: ignore[union-attr]
        tweet["text"] = f"@{parent_user['username']} {item.text}"
        tweet["conversation_id"] = item.parent.extra["conversation_id"]
        tweet["in_reply_to_user_id"] = parent_user["id"]
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": item.parent.external_id}]
        mentions.append({"username": parent_user["username"], "id": parent_user["id"]})
    else:
        tweet["conversation_id"] = item.external_id
        if item.extra["mention"]:
            tweet["text"] = f"@{BRAND['x']['username']} {item.text}"
            mentions.append({"username": BRAND["x"]["username"], "id": BRAND["x"]["id"]})
    item.extra["conversation_id"] = tweet["conversation_id"]
    tweet["lang"] = item.lang
    if mentions:
        tweet["entities"] = {"mentions": mentions}
    tweet["public_metrics"] = {
        "retweet_count": rng.randint(0, 3),
        "reply_count": n_replies,
        "like_count": rng.randint(0, 40),
        "quote_count": rng.randint(0, 1),
    }
    item.text = tweet["text"]
    return {"tweet": tweet, "author": user}


def _render_reddit(item: Item, rng: random.Random, n_replies: int) -> dict[str, Any]:
    account = item.person.accounts["reddit"]  # type: ignore[union-attr]
    root = _reddit_root(item)
    sub = root.extra["subreddit"]
    common = {
        "author": account["author"],
        "author_fullname": account["author_fullname"],
        "created_utc": round(item.created.timestamp(), 3),
    }
    if item is root:
        title, selftext = _split_title(item.text)
        item.extra["title"] = title
        data = {
            "id": item.external_id,
            "name": f"t3_{item.external_id}",
            "title": title,
            "selftext": selftext,
            **common,
            "permalink": f"/r/{sub}/comments/{item.external_id}/{_slug(title)}/",
            "subreddit": sub,
            "locked": bool(item.extra.get("locked")),
            "archived": False,
            "over_18": False,
            "score": rng.randint(1, 120),
            "num_comments": len(item.extra["comments"]),
        }
        return {"kind": "submission", "data": data}
    parent = item.parent or root
    parent_prefix = "t3_" if parent is root else "t1_"
    data = {
        "id": item.external_id,
        "name": f"t1_{item.external_id}",
        "body": item.text,
        **common,
        "link_id": f"t3_{root.external_id}",
        "parent_id": f"{parent_prefix}{parent.external_id}",
        "permalink": f"/r/{sub}/comments/{root.external_id}/{_slug(root.extra['title'])}/{item.external_id}/",
        "subreddit": sub,
        "locked": bool(root.extra.get("locked")),
        "archived": False,
        "score": rng.randint(1, 60),
    }
    return {"kind": "comment", "data": data}


def _render_bluesky(item: Item, rng: random.Random, n_replies: int) -> dict[str, Any]:
    author = item.person.accounts["bluesky"]  # type: ignore[union-attr]
    text = item.text
    if item.parent is None and item.extra["mention"]:
        text = f"@{BRAND['bluesky']['handle']} {text}"
    item.text = text
    uri = f"at://{author['did']}/app.bsky.feed.post/{item.external_id}"
    cid = _cid(uri + text)
    item.extra["uri"], item.extra["cid"] = uri, cid
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": _iso_ms(item.created),
        "langs": [item.lang],
    }
    if item.parent is not None:
        parent = {"uri": item.parent.extra["uri"], "cid": item.parent.extra["cid"]}
        root = item.parent.extra.get("root_ref", parent)
        record["reply"] = {"root": root, "parent": parent}
        item.extra["root_ref"] = root
    indexed = item.created + timedelta(milliseconds=rng.randint(200, 3000))
    return {
        "uri": uri,
        "cid": cid,
        "author": dict(author),
        "record": record,
        "indexedAt": _iso_ms(indexed),
        "replyCount": n_replies,
        "repostCount": rng.randint(0, 3),
        "likeCount": rng.randint(0, 30),
    }


def _mention_html(account: dict[str, Any]) -> str:
    return (
        f'<span class="h-card"><a href="{account["url"]}" class="u-url mention">'
        f"@<span>{account['username']}</span></a></span>"
    )


def _render_mastodon(item: Item, rng: random.Random, n_replies: int) -> dict[str, Any]:
    account = item.person.accounts["mastodon"]  # type: ignore[union-attr]
    mentions, prefix = [], ""
    target = item.parent.person.accounts["mastodon"] if item.parent is not None else None  # type: ignore[union-attr]
    if target is None and item.extra["mention"]:
        target = BRAND["mastodon"]
    if target is not None:
        mentions.append({k: target[k] for k in ("id", "username", "acct", "url")})
        prefix = _mention_html(target) + " "
        item.text = f"@{target['username']} {item.text}"
    body = html.escape(item.text.split(" ", 1)[1] if prefix else item.text, quote=False)
    domain = account["url"].split("/")[2]
    return {
        "id": item.external_id,
        "uri": f"https://{domain}/users/{account['username']}/statuses/{item.external_id}",
        "url": f"https://{domain}/@{account['username']}/{item.external_id}",
        "created_at": _iso_ms(item.created),
        "content": f"<p>{prefix}{body}</p>",
        "language": item.lang,
        "visibility": item.extra.get("visibility", "public"),
        "in_reply_to_id": item.parent.external_id if item.parent is not None else None,
        "in_reply_to_account_id": target["id"] if item.parent is not None and target is not None else None,
        "account": dict(account),
        "mentions": mentions,
        "replies_count": n_replies,
        "reblogs_count": rng.randint(0, 3),
        "favourites_count": rng.randint(0, 25),
    }


RENDER = {
    "x": _render_x,
    "reddit": _render_reddit,
    "bluesky": _render_bluesky,
    "mastodon": _render_mastodon,
}


def _assign_id(ids: Ids, item: Item) -> str:
    if item.platform == "x":
        return ids.tweet(item.created)
    if item.platform == "reddit":
        return ids.reddit()
    if item.platform == "bluesky":
        return ids.tid(item.created)
    return ids.toot(item.created)


def generate(seed: int = SEED) -> tuple[str, str]:
    """Build the whole feed; return (JSONL text, metadata CSV text)."""
    rng = random.Random(seed)
    ids = Ids(rng)
    people = People(rng, ids)
    items = build_items()
    _assign_people(rng, people, items)
    for item in items:
        _assign_time(rng, item)
        _brand_mention_style(rng, item)
    direct = [
        it for it in items if it.platform == "mastodon" and it.extra["mention"] and it.group in ("need", "complaint")
    ]
    for item in rng.sample(direct, 4):
        item.extra["visibility"] = "direct"
    _build_reddit_threads(rng, items)
    items += _add_brand_replies(rng, items)
    items.sort(key=lambda it: (it.created, it.platform))
    for item in items:
        item.external_id = _assign_id(ids, item)
    children: dict[int, int] = {}
    for item in items:
        if item.parent is not None:
            children[id(item.parent)] = children.get(id(item.parent), 0) + 1
    feed, meta = io.StringIO(), io.StringIO()
    writer = csv.writer(meta, lineterminator="\n")
    writer.writerow(
        [
            "platform",
            "external_id",
            "kind",
            "need",
            "intent",
            "is_question",
            "sentiment",
            "language",
        ]
    )
    for item in items:
        payload = RENDER[item.platform](item, rng, children.get(id(item), 0))
        feed.write(json.dumps({"platform": item.platform, "payload": payload}, ensure_ascii=False) + "\n")
        external_id = payload["uri"] if item.platform == "bluesky" else item.external_id
        writer.writerow(
            [
                item.platform,
                external_id,
                item.kind,
                item.need,
                "other" if item.kind == "brand_reply" else item.intent,
                str(item.is_question).lower(),
                item.sentiment,
                item.lang,
            ]
        )
    return feed.getvalue(), meta.getvalue()


def write_feed(out_dir: Path = HERE, seed: int = SEED) -> tuple[Path, Path]:
    """Write sample_feed.jsonl and sample_feed_meta.csv into out_dir."""
    feed, meta = generate(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    feed_path, meta_path = out_dir / FEED_NAME, out_dir / META_NAME
    feed_path.write_text(feed, encoding="utf-8", newline="\n")
    meta_path.write_text(meta, encoding="utf-8", newline="\n")
    logger.info("wrote %s and %s", feed_path, meta_path)
    return feed_path, meta_path


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write into")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_feed(args.out)


if __name__ == "__main__":
    main()
