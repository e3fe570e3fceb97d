"""What the two demo districts are made of: streets, figures, places, names.

Figures follow the two source articles (Shifeng 2019, Wuchang 2016); every
position is invented. Places are given as GCJ-02 lon/lat read off the
district outline (the datum the outline comes in) and converted to WGS84
by the generator, like the outline itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreetSpec:
    """One street (街道): where it starts growing from, its exact totals, its communities."""

    name: str
    code: str
    anchor: tuple[float, float]  # GCJ-02 lon, lat
    population: int
    elderly: int
    communities: tuple[str, ...]
    built_years: tuple[int, int]  # typical range of estate building years
    unmanaged_weight: float = 1.0  # how likely its estates are to lack property management
    campaign_pace: float = 1.0  # how fast its unmanaged estates move through self-governance (1: on plan)


@dataclass(frozen=True)
class Centre:
    """A Gaussian bump of residential density (GCJ-02 lon/lat, spread in metres)."""

    lon: float
    lat: float
    sigma_m: float
    weight: float


@dataclass(frozen=True)
class Hotspot:
    """A place where cases concentrate, with its mix of categories and when it is active."""

    name: str
    lon: float
    lat: float
    sigma_m: float
    share: float  # of all cases
    categories: tuple[tuple[str, float], ...]
    start: str | None = None  # date it emerges (None: the whole period)


@dataclass(frozen=True)
class ScaleSpec:
    """Everything that differs between the demo district and the Wuchang-scale one."""

    scale: str
    district: str
    city: str
    prefix: str
    streets: tuple[StreetSpec, ...]
    n_grids: int
    n_estates: int
    n_unmanaged: int | None
    n_candidates: int
    n_cases: int
    cases_from: str
    as_of: str
    overdue_target: int | None
    grid_workers: int
    facility_counts: tuple[tuple[str, int], ...]
    centres: tuple[Centre, ...]
    background_density: float
    seed_power: float
    water: tuple[tuple[float, float, float], ...]  # GCJ-02 lon, lat, radius_m of lakes (no roads, few people)
    barrier: tuple[tuple[float, float], ...]  # a railway: GCJ-02 polyline that roads cross only at crossings
    crossings: tuple[tuple[float, float], ...]
    hotspots: tuple[Hotspot, ...]
    road_spacing_m: float
    named_estates: tuple[tuple[str, str, str, int | None, str | None], ...] = ()
    # (name, street, management, built_year, committee_formed_on)
    # the self-governance campaign for unmanaged estates: plan start and target (倒排工期), companies
    estates_plan_start: str = ""
    estates_target: str = ""
    n_companies: int = 12
    stuck_estates: tuple[str, ...] = ()  # named estates that have not started by as_of


SHIFENG = ScaleSpec(
    scale="shifeng",
    district="石峰区",
    city="株洲市",
    prefix="SF",
    streets=(
        StreetSpec("响石岭", "XSL", (113.130, 27.864), 62_000, 11_600,
                   ("李家冲", "花果山", "响石岭", "湘天桥", "新华", "九方", "石峰头", "建设"),
                   (1975, 2012), 1.2, campaign_pace=1.05),
        StreetSpec("铜塘湾", "TTW", (113.090, 27.898), 48_000, 7_400,
                   ("铜塘湾", "清霞", "高新", "建宁", "湘氮", "冶金", "双拥"),
                   (1985, 2018), 0.7, campaign_pace=1.2),
        StreetSpec("清水塘", "QST", (113.060, 27.872), 38_000, 7_900,
                   ("报亭", "霞湾", "清石", "选矿", "清水塘", "株冶"),
                   (1965, 2005), 1.6, campaign_pace=0.55),
        StreetSpec("田心", "TX", (113.160, 27.908), 66_000, 12_900,
                   ("北岭", "泉塘湾", "东门", "田心", "机车", "车辆", "高家坪"),
                   (1970, 2015), 1.2, campaign_pace=1.1),
        StreetSpec("井龙", "JL", (113.112, 27.886), 36_000, 5_400,
                   ("井龙", "民主", "新桥", "向阳", "樟树"),
                   (1980, 2016), 0.8, campaign_pace=0.7),
    ),
    n_grids=232,
    n_estates=600,
    n_unmanaged=182,
    n_candidates=150,
    n_cases=12_000,
    cases_from="2018-01-01",
    as_of="2019-06-30",
    overdue_target=93,
    grid_workers=344,
    facility_counts=(
        ("health_center", 5), ("health_station", 14), ("day_care", 27), ("elderly_service_center", 9),
        ("elderly_canteen", 12), ("nursing_home", 5),
    ),
    centres=(
        Centre(113.128, 27.868, 1300, 1.0),
        Centre(113.112, 27.884, 1100, 0.8),
        Centre(113.092, 27.898, 1400, 0.7),
        Centre(113.062, 27.873, 1200, 0.45),
        Centre(113.158, 27.905, 1300, 0.95),
        Centre(113.160, 27.926, 1500, 0.35),
        Centre(113.200, 27.990, 2500, 0.06),
        Centre(113.100, 27.930, 2500, 0.08),
    ),
    background_density=0.008,
    seed_power=1.6,
    water=(),
    barrier=((113.140, 27.850), (113.143, 27.870), (113.150, 27.890), (113.152, 27.915),
             (113.160, 27.940), (113.175, 27.975), (113.190, 28.010)),
    crossings=((113.143, 27.868), (113.149, 27.886), (113.152, 27.912), (113.172, 27.968)),
    hotspots=(
        Hotspot("响石岭步行街", 113.131, 27.866, 220, 0.06,
                (("油烟", 0.35), ("街面秩序", 0.25), ("市容环境", 0.2), ("宣传广告", 0.12), ("其他", 0.08))),
        Hotspot("湘天桥片区", 113.120, 27.874, 300, 0.05,
                (("渣土扬尘", 0.35), ("施工管理", 0.2), ("道路破损", 0.2), ("市容环境", 0.15), ("违章建筑", 0.1))),
        Hotspot("选矿小区", 113.064, 27.876, 200, 0.03,
                (("违章建筑", 0.4), ("市容环境", 0.25), ("邻里纠纷", 0.2), ("路灯", 0.15))),
        Hotspot("铜塘湾新工地", 113.085, 27.906, 250, 0.04,
                (("渣土扬尘", 0.4), ("施工管理", 0.35), ("道路破损", 0.15), ("街面秩序", 0.1)),
                start="2019-03-01"),
    ),
    road_spacing_m=180.0,
    named_estates=(
        ("协力大山地", "响石岭", "self_governed", 1996, "2019-05-18"),
        ("都市兰亭", "铜塘湾", "property_company", 2012, None),
        ("莱茵小镇", "田心", "property_company", 2010, None),
        ("新新家园", "田心", "self_governed", 2005, "2019-04-20"),
        ("选矿小区", "清水塘", "unmanaged", 1978, None),
    ),
    estates_plan_start="2019-01-01",
    estates_target="2019-12-31",
    n_companies=14,
    stuck_estates=("选矿小区",),
)

_WUCHANG_COMMUNITIES: tuple[tuple[str, ...], ...] = (
    ("积玉桥", "和平", "临江", "万年青", "中山", "得胜桥", "新生", "滨江", "天源", "武丰"),
    ("杨园", "四美塘", "铁机", "余家头", "新河", "车辆", "武车", "复兴", "南湖沟", "东亭坊"),
    ("徐家棚", "徐东", "沙湖", "团结", "秦园", "友谊", "和平大道", "公正", "三角路", "楚河"),
    ("粮道街", "昙华林", "胭脂路", "都府堤", "粮道", "戈甲营", "候补", "花园山", "得胜", "青龙巷"),
    ("中华路", "司门口", "长街", "民主", "大成", "解放", "黄鹤", "江边", "彭刘杨", "中华"),
    ("黄鹤楼", "蛇山", "首义", "阅马场", "大东门", "小东门", "紫金", "凤凰", "中山北", "武昌路"),
    ("紫阳", "紫阳湖", "宝安", "白鹭", "湖滨", "瑞龙", "新桥", "复地", "西城", "望山门"),
    ("白沙洲", "张家湾", "烽火", "八铺街", "长江", "大堤", "新安", "江南", "白沙", "鹦鹉"),
    ("首义路", "首义园", "宝通", "梅家山", "棋盘", "雅安", "都司湖", "保安", "阅马", "文昌"),
    ("中南路", "中南", "丁字桥", "武珞", "宏基", "紫菘", "省府", "洪山路", "民主路", "中北"),
    ("水果湖", "东湖", "八一", "茶港", "洪山", "梨园", "省直", "湖北", "东湖路", "翠柳"),
    ("珞珈山", "珞珈", "东湖南", "武大", "卓刀泉", "珞狮", "梅苑", "枫园", "樱园", "桂园"),
    ("石洞", "石牌岭", "月亮湾", "建二", "首钢", "晒湖", "车站", "锦江", "阳光", "四眼井"),
    ("南湖", "南湖山庄", "松竹", "宝安花园", "中央花园", "百瑞景", "平安", "玫瑰", "怡和", "金地"),
)


def _wuchang_streets() -> tuple[StreetSpec, ...]:
    rows = (
        # name, code, anchor (GCJ lon, lat), population, elderly, built years, unmanaged weight, campaign pace
        ("积玉桥", "JYQ", (114.312, 30.566), 82_310, 16_870, (1980, 2016), 1.0, 1.05),
        ("杨园", "YY", (114.330, 30.588), 79_650, 15_330, (1975, 2015), 1.2, 0.7),
        ("徐家棚", "XJP", (114.342, 30.603), 88_420, 16_160, (1985, 2018), 0.8, 1.15),
        ("粮道街", "LDJ", (114.306, 30.548), 63_870, 15_010, (1960, 2005), 1.6, 0.6),
        ("中华路", "ZHL", (114.296, 30.556), 58_940, 13_650, (1960, 2005), 1.6, 0.75),
        ("黄鹤楼", "HHL", (114.300, 30.542), 67_230, 14_920, (1965, 2008), 1.4, 0.95),
        ("紫阳", "ZY", (114.296, 30.533), 81_760, 16_940, (1975, 2012), 1.1, 1.0),
        ("白沙洲", "BSZ", (114.285, 30.512), 76_520, 12_480, (1990, 2018), 0.7, 1.1),
        ("首义路", "SYL", (114.314, 30.539), 72_410, 15_580, (1970, 2010), 1.3, 0.9),
        ("中南路", "ZNL", (114.331, 30.546), 84_930, 16_220, (1980, 2014), 0.9, 1.05),
        ("水果湖", "SGH", (114.352, 30.556), 74_880, 17_310, (1975, 2012), 0.9, 1.1),
        ("珞珈山", "LJS", (114.360, 30.538), 70_290, 15_770, (1970, 2012), 0.8, 1.0),
        ("石洞", "SD", (114.321, 30.526), 83_116, 14_330, (1985, 2016), 1.0, 0.8),
        ("南湖", "NH", (114.312, 30.513), 102_085, 16_940, (1995, 2016), 0.6, 1.2),
    )
    return tuple(
        StreetSpec(name, code, anchor, pop, eld, comms, years, weight, pace)
        for (name, code, anchor, pop, eld, years, weight, pace), comms in zip(rows, _WUCHANG_COMMUNITIES, strict=True)
    )


WUCHANG = ScaleSpec(
    scale="wuchang",
    district="武昌区",
    city="武汉市",
    prefix="WC",
    streets=_wuchang_streets(),
    n_grids=1811,
    n_estates=3600,
    n_unmanaged=None,
    n_candidates=500,
    n_cases=1_000_000,
    cases_from="2014-01-01",
    as_of="2016-12-31",
    overdue_target=None,
    grid_workers=1811,
    facility_counts=(
        ("health_center", 19), ("health_station", 25), ("nursing_home", 35), ("elderly_service_center", 74),
        ("day_care", 112), ("elderly_canteen", 48),
    ),
    centres=(
        Centre(114.305, 30.552, 1500, 1.0),
        Centre(114.300, 30.538, 1300, 0.95),
        Centre(114.318, 30.567, 1400, 0.9),
        Centre(114.335, 30.590, 1500, 0.9),
        Centre(114.348, 30.604, 1300, 0.8),
        Centre(114.328, 30.545, 1300, 0.9),
        Centre(114.350, 30.555, 1200, 0.7),
        Centre(114.362, 30.538, 1100, 0.55),
        Centre(114.320, 30.526, 1300, 0.8),
        Centre(114.312, 30.512, 1100, 0.85),
        Centre(114.287, 30.515, 1300, 0.6),
    ),
    background_density=0.02,
    seed_power=1.4,
    water=((114.333, 30.575, 650), (114.297, 30.530, 280), (114.385, 30.575, 1900), (114.365, 30.585, 900),
           (114.400, 30.585, 1200)),
    barrier=((114.287, 30.500), (114.305, 30.512), (114.318, 30.526), (114.323, 30.545),
             (114.330, 30.565), (114.340, 30.585), (114.350, 30.605), (114.356, 30.620)),
    crossings=((114.305, 30.512), (114.319, 30.529), (114.323, 30.545), (114.327, 30.557),
               (114.333, 30.571), (114.342, 30.589), (114.350, 30.605)),
    hotspots=(
        Hotspot("户部巷", 114.296, 30.548, 250, 0.03,
                (("油烟", 0.35), ("街面秩序", 0.3), ("市容环境", 0.2), ("宣传广告", 0.15))),
        Hotspot("武昌火车站", 114.318, 30.529, 350, 0.04,
                (("街面秩序", 0.35), ("市容环境", 0.25), ("宣传广告", 0.2), ("突发事件", 0.1), ("其他", 0.1))),
        Hotspot("中北路工地", 114.338, 30.566, 300, 0.03,
                (("渣土扬尘", 0.35), ("施工管理", 0.35), ("道路破损", 0.2), ("街面秩序", 0.1))),
        Hotspot("昙华林", 114.307, 30.553, 220, 0.02,
                (("违章建筑", 0.3), ("邻里纠纷", 0.25), ("市容环境", 0.25), ("路灯", 0.2))),
        Hotspot("南湖新城", 114.311, 30.511, 300, 0.04,
                (("施工管理", 0.35), ("渣土扬尘", 0.3), ("道路破损", 0.2), ("邻里纠纷", 0.15)),
                start="2016-07-01"),
    ),
    road_spacing_m=150.0,
    named_estates=(),
    estates_plan_start="2016-07-01",
    estates_target="2017-06-30",
    n_companies=45,
)

SPECS: dict[str, ScaleSpec] = {"shifeng": SHIFENG, "wuchang": WUCHANG}

SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏斌宇浩凯健俊帆帅旭宁龙林欣琳晨瑶婷雪慧颖佳倩莉燕凤梅琴云志鑫波海峰亮成红春荣")

ESTATE_HEADS = (
    "金色", "华晨", "湘江", "时代", "芙蓉", "明珠", "阳光", "锦绣", "翡翠", "书香", "和平", "幸福", "东方", "新城",
    "御景", "盛世", "君悦", "丽景", "枫林", "银海", "万象", "紫薇", "桂花", "龙湾", "世纪", "嘉和", "恒大", "泰和",
    "南苑", "北苑", "滨江", "学府", "康桥", "天伦", "怡景", "翠园", "星光", "瑞丰", "富康", "安居", "万福", "朝阳",
)
ESTATE_TAILS = ("花园", "家园", "新村", "苑", "名城", "公寓", "雅苑", "嘉园", "小区", "城", "华庭", "佳苑", "府")
OLD_ESTATE_UNITS = (
    "机务段", "电厂", "化工厂", "冶炼厂", "水泥厂", "机车厂", "车辆厂", "粮站", "供销社", "航运公司", "电机厂",
    "玻璃厂", "化肥厂", "纺织厂", "棉纺厂", "自来水公司", "建筑公司", "运输公司", "百货公司", "印刷厂",
)
OLD_ESTATE_TAILS = ("宿舍", "生活区", "职工宿舍", "家属区", "小区")

# Property companies (names invented): head + one of the tails.
COMPANY_HEADS = (
    "金泰", "华庭", "湘誉", "恒安", "嘉诚", "民生", "安居", "兴业", "永安", "鑫源", "长城", "顺和", "仁和", "宏远",
    "楚天", "江城", "汉阳", "东湖", "福星", "新城", "百步亭", "天诚", "康居", "和美", "益家", "锦华", "明德",
    "瑞祥", "乐居", "佳和", "荣昌", "万家", "新天地", "中城", "宜居", "众诚", "志远", "同心", "信达", "安泰",
    "广厦", "正信", "德润", "华锦", "惠民", "祥和", "盛安", "金盾",
)
COMPANY_TAILS = ("物业", "物业管理有限公司", "物业服务有限公司")

CANDIDATE_KINDS = ("社区闲置用房", "小区物业用房", "小区架空层", "闲置厂房", "社区综合楼", "闲置门面", "单位闲置用房")
NURSING_HOME_NAMES = (
    "缘善居养老院", "明峰老年公寓", "区社会福利中心", "颐康养老院", "福寿养护院", "康乐老年公寓", "夕阳红养老院",
    "松鹤颐养院", "安康护理院", "长乐养老中心", "乐龄养护院", "怡心老年公寓",
)

# Case handling: deadline (days) per category, and which units handle it.
CASE_DEADLINE_DAYS: dict[str, float] = {
    "市容环境": 3, "宣传广告": 3, "施工管理": 7, "突发事件": 1, "街面秩序": 2, "其他": 7,
    "邻里纠纷": 7, "道路破损": 10, "路灯": 5, "违章建筑": 15, "渣土扬尘": 3, "油烟": 5,
}
CASE_UNITS: dict[str, tuple[tuple[str, float], ...]] = {
    "市容环境": (("城管", 0.6), ("街道办", 0.25), ("社区居委会", 0.15)),
    "宣传广告": (("城管", 0.85), ("街道办", 0.15)),
    "施工管理": (("住建", 0.6), ("城管", 0.4)),
    "突发事件": (("应急管理", 0.35), ("供电", 0.25), ("水务", 0.2), ("街道办", 0.2)),
    "街面秩序": (("城管", 0.7), ("公安", 0.3)),
    "其他": (("街道办", 0.5), ("社区居委会", 0.5)),
    "邻里纠纷": (("社区居委会", 0.65), ("司法所", 0.25), ("公安", 0.1)),
    "道路破损": (("住建", 0.75), ("城管", 0.25)),
    "路灯": (("城管", 0.6), ("供电", 0.4)),
    "违章建筑": (("城管", 0.7), ("住建", 0.3)),
    "渣土扬尘": (("环保", 0.5), ("城管", 0.5)),
    "油烟": (("环保", 0.6), ("城管", 0.4)),
}
# How long each unit takes, relative to the deadline (median share of it).
UNIT_SPEED: dict[str, float] = {
    "城管": 0.45, "街道办": 0.5, "社区居委会": 0.4, "住建": 0.75, "供电": 0.35, "环保": 0.55,
    "公安": 0.3, "司法所": 0.6, "应急管理": 0.3, "水务": 0.5,
}
# Share of each category in ordinary reporting, and its seasonal swing (peak month, amplitude).
CASE_MIX: dict[str, tuple[float, int, float]] = {
    "市容环境": (0.27, 7, 0.15), "宣传广告": (0.07, 3, 0.1), "施工管理": (0.07, 10, 0.25),
    "突发事件": (0.03, 7, 0.5), "街面秩序": (0.11, 8, 0.2), "其他": (0.08, 1, 0.0),
    "邻里纠纷": (0.09, 2, 0.25), "道路破损": (0.08, 6, 0.35), "路灯": (0.06, 12, 0.4),
    "违章建筑": (0.05, 4, 0.2), "渣土扬尘": (0.05, 11, 0.45), "油烟": (0.04, 7, 0.6),
}
CASE_TEXTS: dict[str, tuple[str, ...]] = {
    "市容环境": ("垃圾堆积未及时清运", "楼道堆放杂物", "绿化带内有生活垃圾", "垃圾桶破损满溢", "下水道堵塞污水外溢"),
    "宣传广告": ("乱张贴小广告", "违规设置广告牌", "条幅破损未拆除", "墙面乱涂写"),
    "施工管理": ("夜间施工噪音扰民", "施工围挡破损", "施工占道未设警示", "工地出入口泥泞"),
    "突发事件": ("水管爆裂", "电线脱落存在隐患", "树木倒伏挡路", "窨井盖缺失"),
    "街面秩序": ("占道经营", "流动摊贩聚集", "车辆乱停放堵塞通道", "店外经营"),
    "其他": ("居民咨询政策", "反映公共设施损坏", "请求协助办理证明", "流浪犬扰民"),
    "邻里纠纷": ("楼上漏水引发纠纷", "噪音扰邻", "公共区域占用纠纷", "宠物扰邻"),
    "道路破损": ("进出道路破损", "人行道砖松动", "路面坑洼积水", "路沿石破损"),
    "路灯": ("路灯不亮", "楼道灯损坏", "路灯杆倾斜", "路灯白天常亮"),
    "违章建筑": ("楼顶违章搭建", "私搭乱建棚屋", "占用绿地违建", "违规加建围墙"),
    "渣土扬尘": ("渣土车抛洒", "工地扬尘严重", "裸土未覆盖", "道路积尘"),
    "油烟": ("露天烧烤油烟扰民", "餐馆油烟直排", "夜宵摊油烟", "油烟净化器未使用"),
}
CASE_PLACES = ("", "小区门口", "楼栋旁", "路口", "背街小巷", "菜市场旁", "公交站旁", "学校附近")
