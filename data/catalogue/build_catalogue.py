"""Build the event-type catalogue (categories, departments, 247 event types) from the tables below."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# The tables below are laid out by hand, one entry per line; keep the formatter off them.
# fmt: off

# Where an event type tends to happen; letters used in the tables below.
CELL_TAGS: dict[str, str] = {
    "o": "old_town",
    "m": "market",
    "r": "riverside",
    "l": "low_lying",
    "i": "industrial",
    "h": "residential",
    "s": "school",
}

N = "normal"
U = "urgent"  # threatens life or property: dispatched at once

# --------------------------------------------------------------------------------------------------
# Departments: id, name_zh, name_en, short_zh, short_en.
# "local_town" and "local_community" stand for the subdistrict / community that owns the cell: the
# simulator and the processor resolve them to the cell's own 镇街 / 村居.
# --------------------------------------------------------------------------------------------------
DEPARTMENTS: list[tuple[str, str, str, str, str]] = [
    ("urban_mgmt", "区城市管理和综合执法局", "District Urban Management and Law Enforcement Bureau",
     "城管执法局", "Urban Mgmt"),
    ("sanitation", "区环境卫生管理中心", "District Environmental Sanitation Centre", "环卫中心",
     "Sanitation"),
    ("municipal", "区市政设施管理中心", "District Municipal Facilities Centre", "市政中心",
     "Municipal Works"),
    ("greenery", "区园林绿化中心", "District Parks and Greenery Centre", "园林中心", "Greenery"),
    ("housing_water", "区住房城乡建设和水务局",
     "District Housing, Urban-Rural Development and Water Affairs Bureau", "住建水务局", "Housing & Water"),
    ("drainage", "区排水管理中心", "District Drainage Management Centre", "排水中心", "Drainage"),
    ("river_chief", "区河长制办公室", "District River Chief Office", "河长办", "River Chief"),
    ("flood_control", "区三防指挥部办公室", "District Flood, Drought and Typhoon Control Office", "三防办",
     "Flood Control"),
    ("urban_renewal", "区城市更新局", "District Urban Renewal Bureau", "城市更新局", "Urban Renewal"),
    ("natural_resources", "佛山市自然资源局禅城分局", "Foshan Natural Resources Bureau, Chancheng Branch",
     "自然资源分局", "Natural Res."),
    ("ecology_env", "佛山市生态环境局禅城分局", "Foshan Ecology and Environment Bureau, Chancheng Branch",
     "生态环境分局", "Environment"),
    ("transport", "区交通运输局", "District Transport Bureau", "交通运输局", "Transport"),
    ("traffic_police", "佛山市公安局禅城分局交通警察大队", "Chancheng Traffic Police Brigade", "交警大队",
     "Traffic Police"),
    ("police", "佛山市公安局禅城分局", "Foshan Public Security Bureau, Chancheng Sub-bureau", "公安分局",
     "Police"),
    ("local_police", "属地派出所", "Local Police Station", "派出所", "Police Station"),
    ("fire_rescue", "佛山市禅城区消防救援大队", "Chancheng District Fire and Rescue Brigade", "消防大队",
     "Fire Rescue"),
    ("emergency", "区应急管理局", "District Emergency Management Bureau", "应急管理局", "Emergency Mgmt"),
    ("market_reg", "区市场监督管理局", "District Market Supervision Administration", "市场监管局",
     "Market Reg."),
    ("hr_social", "区人力资源和社会保障局", "District Human Resources and Social Security Bureau", "人社局",
     "HR & Soc. Sec."),
    ("health", "区卫生健康局", "District Health Bureau", "卫健局", "Health"),
    ("cdc", "区疾病预防控制中心", "District Centre for Disease Control and Prevention", "疾控中心", "CDC"),
    ("civil_affairs", "区民政局", "District Civil Affairs Bureau", "民政局", "Civil Affairs"),
    ("justice", "区司法局", "District Justice Bureau", "司法局", "Justice"),
    ("petitions", "区信访局", "District Letters and Visits (Petitions) Bureau", "信访局", "Petitions"),
    ("politics_law", "区委政法委员会", "District Political and Legal Affairs Commission", "区委政法委",
     "Pol.-Legal Comm."),
    ("education", "区教育局", "District Education Bureau", "教育局", "Education"),
    ("culture_tourism", "区文化广电旅游体育局", "District Culture, Radio, TV, Tourism and Sports Bureau",
     "文广旅体局", "Culture & Sport"),
    ("economy_tech", "区经济和科技促进局", "District Economy and Technology Promotion Bureau", "经科局",
     "Economy & Tech"),
    ("agri_rural", "区农业农村局", "District Agriculture and Rural Affairs Bureau", "农业农村局",
     "Agri & Rural"),
    ("veterans", "区退役军人事务局", "District Veterans Affairs Bureau", "退役军人局", "Veterans"),
    ("medical_security", "佛山市医疗保障局禅城分局", "Foshan Healthcare Security Bureau, Chancheng Branch",
     "医保分局", "Medical Insurance"),
    ("finance", "区金融工作局", "District Financial Affairs Office", "金融工作局", "Finance"),
    ("gov_services", "区政务服务数据管理局", "District Government Services and Data Administration", "政数局",
     "Gov Services"),
    ("civil_defense", "区人民防空办公室", "District Civil Air Defence Office", "人防办", "Civil Defence"),
    ("anti_drug", "区禁毒委员会办公室", "District Narcotics Control Office", "禁毒办", "Anti-Drug"),
    ("tobacco", "佛山市烟草专卖局禅城分局", "Foshan Tobacco Monopoly Bureau, Chancheng Branch",
     "烟草专卖分局", "Tobacco"),
    ("women_fed", "区妇女联合会", "District Women's Federation", "区妇联", "Women's Fed."),
    ("disabled_fed", "区残疾人联合会", "District Disabled Persons' Federation", "区残联", "Disabled Fed."),
    ("trade_union", "区总工会", "District Federation of Trade Unions", "区总工会", "Trade Union"),
    ("power_supply", "广东电网佛山禅城供电局", "Guangdong Power Grid, Chancheng Power Supply Bureau",
     "供电局", "Power Supply"),
    ("gas_company", "佛山燃气集团禅城分公司", "Foshan Gas Group, Chancheng Branch", "燃气公司", "Gas Co."),
    ("water_company", "禅城区供水有限公司", "Chancheng Water Supply Company", "供水公司", "Water Co."),
    ("telecom", "通信运营商禅城分公司（电信、移动、联通、铁塔）",
     "Telecom Operators, Chancheng Branches (Telecom, Mobile, Unicom, Tower)", "通信运营商", "Telecom"),
    ("local_town", "属地镇街", "Local Subdistrict / Town Office", "镇街", "Subdistrict"),
    ("local_community", "属地村（居）委会", "Local Village / Community Committee", "村居", "Community"),
]

# --------------------------------------------------------------------------------------------------
# Categories: id, code prefix, name_zh, name_en, colour on the dark wall, share of all events, and
# subcategories. Within a category each row's raw weight is relative; the script scales the rows so the
# category's weights add up to its share of 1000 events (the mix a grid system typically sees).
# Row: (name_zh, name_en, department, priority, raw weight, cell-tag letters).
# --------------------------------------------------------------------------------------------------
Row = tuple[str, str, str, str, int, str]
Subcategory = tuple[str, str, list[Row]]

CITY_MANAGEMENT: list[Subcategory] = [
    ("市容秩序", "Street order", [
        ("占道经营", "Street vending on the road", "urban_mgmt", N, 40, "m"),
        ("出店经营", "Business spilling out of the shop front", "urban_mgmt", N, 30, "mo"),
        ("流动摊贩", "Mobile hawkers", "urban_mgmt", N, 25, "ms"),
        ("夜市摊档超范围经营", "Night-market stalls beyond the permitted area", "urban_mgmt", N, 8, "m"),
        ("乱堆物料", "Materials piled on public space", "urban_mgmt", N, 14, "oh"),
        ("乱张贴小广告", "Illegal flyers and stickers", "urban_mgmt", N, 18, ""),
        ("乱涂写乱刻画", "Graffiti and scrawled adverts", "urban_mgmt", N, 8, ""),
        ("沿街晾晒", "Laundry hung along the street", "urban_mgmt", N, 6, "o"),
        ("露天烧烤", "Open-air barbecue stall", "urban_mgmt", N, 7, "m"),
        ("违规设置遮阳篷", "Unauthorised awning or canopy", "urban_mgmt", N, 5, "m"),
        ("废品收购占道", "Scrap-collection point occupying the road", "urban_mgmt", N, 5, "oi"),
        ("占道洗车修车", "Car washing or repair on the pavement", "urban_mgmt", N, 4, ""),
        ("户外喇叭叫卖扰民", "Loudspeaker hawking disturbing residents", "urban_mgmt", N, 4, "m"),
    ]),
    ("环境卫生", "Sanitation", [
        ("暴露垃圾", "Exposed rubbish", "sanitation", N, 28, ""),
        ("垃圾满溢", "Overflowing rubbish bins", "sanitation", N, 22, "mh"),
        ("垃圾收集容器破损", "Damaged rubbish container", "sanitation", N, 8, ""),
        ("道路不洁", "Dirty road surface", "sanitation", N, 14, ""),
        ("积存垃圾渣土", "Accumulated waste and spoil", "sanitation", N, 9, ""),
        ("建筑垃圾乱倒", "Illegal dumping of construction waste", "urban_mgmt", N, 10, "i"),
        ("大件垃圾乱弃", "Abandoned bulky waste (furniture, mattresses)", "sanitation", N, 8, "h"),
        ("餐厨垃圾乱倒", "Food waste dumped illegally", "sanitation", N, 6, "m"),
        ("垃圾分类投放不规范", "Waste not sorted at the collection point", "local_community", N, 10, "h"),
        ("公厕不洁或设施故障", "Public toilet dirty or out of order", "sanitation", N, 6, "m"),
        ("动物尸体", "Animal carcass on public space", "sanitation", N, 3, ""),
        ("焚烧垃圾树叶", "Burning rubbish or leaves", "urban_mgmt", N, 4, "i"),
        ("卫生死角", "Neglected dirty corner", "sanitation", N, 6, "o"),
    ]),
    ("市政设施", "Municipal facilities", [
        ("公共设施部件破损", "Damaged public facilities", "municipal", N, 30, ""),
        ("路面维修", "Road surface repair", "municipal", N, 24, ""),
        ("人行道板松动破损", "Loose or broken paving slabs", "municipal", N, 14, "o"),
        ("井盖缺失", "Missing manhole cover", "municipal", U, 4, ""),
        ("井盖破损移位", "Damaged or displaced manhole cover", "municipal", N, 9, ""),
        ("路灯不亮", "Street light out", "municipal", N, 16, ""),
        ("路灯杆倾斜", "Leaning lamp post", "municipal", N, 3, ""),
        ("道路护栏损坏", "Damaged road guardrail", "municipal", N, 6, ""),
        ("盲道被占或破损", "Tactile paving blocked or broken", "municipal", N, 5, ""),
        ("交通标志标线缺损", "Missing or worn traffic signs and markings", "traffic_police", N, 5, ""),
        ("交通信号灯故障", "Traffic signal fault", "traffic_police", N, 4, ""),
        ("公交站亭破损", "Damaged bus shelter", "transport", N, 3, ""),
        ("公共健身器材损坏", "Damaged outdoor fitness equipment", "culture_tourism", N, 5, "h"),
        ("公共座椅破损", "Broken public bench", "municipal", N, 3, ""),
        ("桥梁栏杆损坏", "Damaged bridge railing", "municipal", N, 2, "r"),
        ("道路塌陷", "Road subsidence or sinkhole", "municipal", U, 2, "l"),
        ("路名牌门牌缺损", "Missing street-name or house-number plate", "civil_affairs", N, 3, "o"),
        ("消火栓损坏漏水", "Damaged or leaking fire hydrant", "water_company", N, 3, ""),
    ]),
    ("排水设施", "Drainage", [
        ("排水管道堵塞", "Blocked drain", "drainage", N, 20, "ol"),
        ("雨水篦子堵塞缺失", "Blocked or missing gully grate", "drainage", N, 10, "l"),
        ("污水冒溢", "Sewage overflow", "drainage", N, 9, "oh"),
        ("化粪池满溢", "Overflowing septic tank", "drainage", N, 4, "o"),
        ("排水沟渠淤塞", "Silted drainage ditch", "drainage", N, 6, "li"),
        ("排水管渠破损渗漏", "Broken or leaking drain pipe", "drainage", N, 4, ""),
        ("雨污混接错接", "Storm and foul sewers cross-connected", "drainage", N, 3, "h"),
    ]),
    ("园林绿化", "Parks and greenery", [
        ("树木倒伏", "Fallen tree", "greenery", U, 3, ""),
        ("断枝悬挂", "Broken branch hanging over the road", "greenery", N, 5, ""),
        ("绿地毁坏践踏", "Damaged or trampled green space", "greenery", N, 6, ""),
        ("绿化带缺株死苗", "Gaps and dead plants in planting strips", "greenery", N, 5, ""),
        ("树木病虫害", "Tree pests and disease", "greenery", N, 3, ""),
        ("毁绿种菜", "Vegetable plots on public green space", "greenery", N, 6, "oh"),
        ("树木遮挡信号灯路灯", "Trees obscuring signals or street lights", "greenery", N, 4, ""),
        ("绿地杂草丛生", "Overgrown green space", "greenery", N, 5, ""),
        ("违规砍伐修剪树木", "Unauthorised tree felling or pruning", "greenery", N, 2, ""),
    ]),
    ("违法建设", "Illegal construction", [
        ("违法建设", "Illegal construction", "urban_mgmt", N, 12, "o"),
        ("楼顶违规加建", "Illegal rooftop extension", "urban_mgmt", N, 7, "oh"),
        ("违规改变建筑外立面", "Unauthorised change to a building facade", "urban_mgmt", N, 4, ""),
        ("私搭乱建简易房", "Makeshift shed built without a permit", "urban_mgmt", N, 6, "oi"),
        ("违规围蔽占地", "Unauthorised fencing-off of public land", "urban_mgmt", N, 3, ""),
        ("拆违后复建", "Rebuilding after an illegal structure was demolished", "urban_mgmt", N, 2, ""),
    ]),
    ("户外广告", "Outdoor advertising and signs", [
        ("违规户外广告", "Unauthorised outdoor advertising", "urban_mgmt", N, 8, "m"),
        ("招牌广告牌松动脱落风险", "Shop sign or billboard at risk of falling", "urban_mgmt", U, 3, "o"),
        ("乱挂条幅横幅", "Unauthorised banners", "urban_mgmt", N, 5, ""),
        ("广告设施破损", "Damaged advertising structure", "urban_mgmt", N, 3, ""),
        ("LED屏亮度扰民", "Glaring LED screen disturbing residents", "urban_mgmt", N, 2, "h"),
    ]),
    ("停车秩序", "Parking and street traffic", [
        ("机动车乱停放", "Illegally parked motor vehicles", "traffic_police", N, 16, ""),
        ("非机动车乱停放", "Bicycles and e-bikes parked haphazardly", "urban_mgmt", N, 14, "m"),
        ("共享单车堆积", "Piled-up shared bikes", "transport", N, 9, "s"),
        ("僵尸车", "Abandoned vehicle", "traffic_police", N, 5, "h"),
        ("货车违规驶入限行路段", "Lorry in a restricted street", "traffic_police", N, 3, "o"),
        ("占道施工未规范围蔽", "Roadworks without proper barriers", "municipal", N, 4, ""),
    ]),
    ("施工管理", "Construction sites", [
        ("工地夜间违规施工", "Night-time construction without a permit", "housing_water", N, 7, "h"),
        ("工地扬尘", "Construction-site dust", "housing_water", N, 7, ""),
        ("渣土车遗撒", "Muck truck spilling on the road", "urban_mgmt", N, 5, ""),
        ("工地围挡破损", "Damaged construction hoarding", "housing_water", N, 3, ""),
        ("道路开挖后未修复", "Road not restored after excavation", "municipal", N, 4, ""),
    ]),
    ("生态环境", "Environment", [
        ("餐饮油烟扰民", "Restaurant cooking fumes disturbing residents", "urban_mgmt", N, 9, "mo"),
        ("社会生活噪声扰民", "Commercial noise disturbing residents", "urban_mgmt", N, 8, "h"),
        ("工业废气异味", "Industrial exhaust or odour", "ecology_env", N, 5, "i"),
        ("废水偷排", "Illegal wastewater discharge", "ecology_env", N, 3, "ir"),
        ("工业固废乱倒", "Dumping of industrial solid waste", "ecology_env", N, 3, "i"),
        ("陶瓷企业粉尘", "Dust from a ceramics works", "ecology_env", N, 3, "i"),
    ]),
    ("河涌水域", "Rivers and canals", [
        ("河涌水面漂浮物", "Floating rubbish on a canal", "river_chief", N, 7, "r"),
        ("河涌水体黑臭", "Black and smelly canal water", "river_chief", N, 4, "r"),
        ("排污口异常排放", "Abnormal discharge from an outfall", "ecology_env", N, 3, "ri"),
        ("河堤护栏破损", "Damaged embankment railing", "river_chief", N, 3, "r"),
        ("河道违规占用", "Illegal occupation of a river channel", "river_chief", N, 2, "r"),
        ("河涌淤积", "Silted canal", "river_chief", N, 2, "rl"),
        ("违规垂钓游泳", "Fishing or swimming in prohibited waters", "river_chief", N, 3, "r"),
    ]),
]

PUBLIC_SERVICES: list[Subcategory] = [
    ("民生救助", "Social assistance", [
        ("独居老人需走访关爱", "Elderly person living alone needing visits", "local_community", N, 20, "oh"),
        ("高龄老人生活困难", "Very old person in hardship", "civil_affairs", N, 6, "o"),
        ("困难家庭救助需求", "Family in hardship needing assistance", "civil_affairs", N, 8, ""),
        ("低保特困申请咨询", "Minimum-income or extreme-poverty enquiry", "civil_affairs", N, 6, ""),
        ("临时救助需求", "Need for temporary assistance", "civil_affairs", N, 4, ""),
        ("流浪乞讨人员", "Homeless person or beggar", "civil_affairs", N, 5, "mr"),
        ("残疾人帮扶需求", "Person with a disability needing support", "disabled_fed", N, 5, ""),
        ("困境儿童关爱", "Child in difficult circumstances needing care", "civil_affairs", N, 3, ""),
        ("居家养老服务需求", "Home-based elderly-care request", "civil_affairs", N, 8, "oh"),
        ("退役军人帮扶", "Veteran needing support", "veterans", N, 3, ""),
        ("殡葬服务咨询", "Funeral-service enquiry", "civil_affairs", N, 1, ""),
    ]),
    ("就业社保", "Employment and social insurance", [
        ("就业援助需求", "Job-seeking assistance", "hr_social", N, 6, ""),
        ("社保参保咨询", "Social-insurance enrolment enquiry", "hr_social", N, 6, ""),
        ("医保报销咨询", "Medical-insurance reimbursement enquiry", "medical_security", N, 5, ""),
        ("灵活就业登记", "Registration of flexible employment", "hr_social", N, 3, ""),
        ("职业技能培训需求", "Vocational-training request", "hr_social", N, 3, "i"),
    ]),
    ("卫生健康", "Health", [
        ("病媒生物孳生", "Rats, mosquitoes, flies or cockroaches breeding", "cdc", N, 10, "mo"),
        ("积水容器蚊虫孳生", "Standing water breeding mosquitoes (dengue risk)", "cdc", N, 9, "lh"),
        ("发热病例聚集", "Cluster of fever cases", "cdc", U, 1, ""),
        ("非法行医", "Unlicensed medical practice", "health", N, 2, "o"),
        ("家庭医生签约需求", "Family-doctor sign-up request", "health", N, 4, "h"),
        ("疫苗接种咨询", "Vaccination enquiry", "health", N, 3, ""),
    ]),
    ("教育服务", "Education", [
        ("校外培训机构违规办学", "Unlicensed off-campus tutoring centre", "education", N, 3, "s"),
        ("托育机构问题", "Problem at a childcare centre", "health", N, 2, "h"),
        ("适龄儿童失学辍学", "School-age child out of school", "education", N, 1, ""),
        ("学位入学咨询", "School-place enquiry", "education", N, 4, "s"),
        ("校园周边环境问题", "Untidy surroundings of a school", "local_town", N, 3, "s"),
    ]),
    ("公用事业", "Public utilities", [
        ("停水", "Water outage", "water_company", N, 6, ""),
        ("水压不足水质异常", "Low water pressure or discoloured water", "water_company", N, 5, "o"),
        ("供水管道爆裂", "Burst water main", "water_company", U, 2, ""),
        ("停电", "Power cut", "power_supply", N, 6, ""),
        ("电线电缆低垂裸露", "Sagging or exposed power cables", "power_supply", U, 3, "o"),
        ("通信线缆凌乱飞线", "Tangled or dangling telecom cables", "telecom", N, 7, "o"),
        ("通信线缆断落", "Fallen telecom cable", "telecom", N, 3, ""),
        ("燃气供应中断", "Gas supply interruption", "gas_company", N, 2, ""),
        ("网络信号差", "Poor mobile or broadband signal", "telecom", N, 3, ""),
        ("公交站点线路服务问题", "Bus route or stop service problem", "transport", N, 3, ""),
    ]),
    ("消费与市场", "Consumers and markets", [
        ("消费投诉", "Consumer complaint", "market_reg", N, 6, "m"),
        ("价格违法乱收费", "Illegal pricing or overcharging", "market_reg", N, 3, "m"),
        ("无证无照经营", "Business operating without a licence", "market_reg", N, 5, "mo"),
        ("假冒伪劣商品", "Counterfeit or substandard goods", "market_reg", N, 3, "m"),
        ("农贸市场管理问题", "Problem in a wet market", "market_reg", N, 4, "m"),
    ]),
    ("政务与社区服务", "Government and community services", [
        ("实有人口信息采集", "Resident-population information collection", "local_police", N, 8, "h"),
        ("惠民政策咨询", "Enquiry on benefit policies", "local_town", N, 5, ""),
        ("政务服务投诉建议", "Complaint or suggestion about government services", "gov_services", N, 4, ""),
        ("证件办理咨询", "Enquiry about documents and certificates", "gov_services", N, 4, ""),
        ("户籍业务咨询", "Household-registration enquiry", "local_police", N, 3, ""),
        ("文物及历史建筑保护", "Heritage site or historic building at risk", "culture_tourism", N, 2, "o"),
        ("社区公共服务设施需求", "Request for community service facilities", "local_community", N, 3, "h"),
        ("法律援助需求", "Legal-aid request", "justice", N, 3, ""),
    ]),
]

PUBLIC_SAFETY: list[Subcategory] = [
    ("消防安全", "Fire safety", [
        ("老旧房屋消防隐患", "Fire hazard in an old house", "fire_rescue", U, 8, "o"),
        ("电动自行车楼道停放充电", "E-bikes parked or charged in a stairwell", "fire_rescue", N, 10, "oh"),
        ("飞线充电", "Charging through a dangling extension lead", "fire_rescue", N, 8, "oh"),
        ("消防通道堵塞", "Blocked fire access route", "fire_rescue", N, 7, "ho"),
        ("消防设施损坏缺失", "Damaged or missing fire equipment", "fire_rescue", N, 6, ""),
        ("“三小”场所消防隐患", "Fire hazard in a small shop, workshop or venue", "fire_rescue", N, 6, "mi"),
        ("“三合一”场所住人", "People sleeping in a shop-warehouse-dwelling", "fire_rescue", U, 4, "mi"),
        ("疏散通道锁闭", "Locked emergency exit", "fire_rescue", U, 2, ""),
        ("出租屋消防隐患", "Fire hazard in rental housing", "fire_rescue", N, 5, "o"),
        ("违规动火作业", "Unauthorised hot work (welding, cutting)", "emergency", N, 2, "i"),
    ]),
    ("燃气安全", "Gas safety", [
        ("燃气泄漏", "Gas leak", "gas_company", U, 3, ""),
        ("燃气管道破损占压", "Gas pipe damaged or built over", "gas_company", U, 2, ""),
        ("瓶装液化气违规储存使用", "Bottled LPG stored or used unsafely", "urban_mgmt", U, 4, "mo"),
        ("燃气软管老化", "Ageing gas hose", "gas_company", N, 5, "o"),
        ("餐饮场所燃气隐患", "Gas hazard in a restaurant", "urban_mgmt", N, 4, "m"),
        ("非法充装倒卖液化气", "Illegal refilling or resale of LPG", "urban_mgmt", N, 1, "i"),
    ]),
    ("安全生产", "Workplace safety", [
        ("企业安全生产隐患", "Workplace safety hazard in an enterprise", "emergency", N, 6, "i"),
        ("危险化学品违规储存", "Hazardous chemicals stored unsafely", "emergency", U, 2, "i"),
        ("村级工业园安全隐患", "Safety hazard in a village industrial park", "economy_tech", N, 2, "i"),
        ("有限空间作业隐患", "Confined-space work hazard", "emergency", N, 1, "i"),
        ("小作坊安全隐患", "Hazard in a small workshop", "emergency", N, 4, "io"),
        ("工地高处作业无防护", "Work at height without protection on a site", "housing_water", U, 2, ""),
        ("陶瓷窑炉安全隐患", "Ceramics kiln safety hazard", "emergency", N, 2, "i"),
    ]),
    ("房屋建筑安全", "Building safety", [
        ("房屋开裂危房", "Cracked or dangerous house", "housing_water", U, 4, "o"),
        ("外墙饰面脱落", "Falling facade tiles or render", "housing_water", U, 4, "o"),
        ("房屋倾斜沉降", "House tilting or settling", "housing_water", U, 1, "ol"),
        ("违规装修破坏承重结构", "Renovation damaging load-bearing walls", "housing_water", U, 1, "h"),
        ("老旧小区公共构件破损", "Broken shared fittings in an old estate", "housing_water", N, 5, "o"),
        ("高空坠物隐患", "Risk of objects falling from height", "housing_water", N, 4, "h"),
        ("挡土墙边坡失稳", "Unstable retaining wall or slope", "natural_resources", U, 1, ""),
    ]),
    ("防汛防风", "Flood and typhoon", [
        ("低洼地段水浸", "Flooding in a low-lying street", "flood_control", U, 4, "l"),
        ("地下空间进水", "Water entering a basement or underground car park", "flood_control", U, 2, "lh"),
        ("河涌水位超警戒", "Canal water above the warning level", "flood_control", U, 1, "r"),
        ("堤防渗漏险情", "Leak in an embankment", "flood_control", U, 1, "r"),
        ("临时构筑物防风加固", "Temporary structure needs securing against wind", "flood_control", N, 3, ""),
        ("人防工程渗水", "Seepage in a civil-defence shelter", "civil_defense", N, 1, ""),
    ]),
    ("特种设备", "Lifts and special equipment", [
        ("电梯困人", "Person trapped in a lift", "market_reg", U, 3, "h"),
        ("电梯运行故障", "Lift malfunction", "market_reg", N, 4, "h"),
    ]),
    ("食品药品安全", "Food and drug safety", [
        ("食品安全隐患", "Food-safety hazard", "market_reg", N, 5, "m"),
        ("疑似食物中毒", "Suspected food poisoning", "market_reg", U, 1, "s"),
        ("过期变质食品销售", "Sale of expired or spoiled food", "market_reg", N, 3, "m"),
        ("药品违规销售", "Illegal sale of medicines", "market_reg", N, 1, ""),
    ]),
    ("交通安全", "Road safety", [
        ("道路交通事故", "Road traffic accident", "traffic_police", U, 3, ""),
        ("道路安全隐患点", "Road-safety black spot", "traffic_police", N, 3, ""),
        ("学校周边交通隐患", "Traffic hazard near a school", "traffic_police", N, 3, "s"),
    ]),
]

DISPUTES: list[Subcategory] = [
    ("邻里纠纷", "Neighbour disputes", [
        ("邻里纠纷", "Neighbour dispute", "local_community", N, 20, "oh"),
        ("楼上楼下漏水纠纷", "Water leaking between flats", "local_community", N, 8, "oh"),
        ("噪声扰民纠纷", "Noise dispute between neighbours", "local_community", N, 8, "h"),
        ("宠物饲养纠纷", "Dispute over pets", "local_community", N, 5, "h"),
        ("通行采光相邻纠纷", "Dispute over right of way or daylight", "local_town", N, 3, "o"),
        ("公共空间占用纠纷", "Dispute over use of shared space", "local_community", N, 5, "o"),
    ]),
    ("婚姻家庭", "Marriage and family", [
        ("家庭矛盾纠纷", "Family conflict", "local_community", N, 8, ""),
        ("婚姻纠纷", "Marital dispute", "women_fed", N, 4, ""),
        ("赡养抚养纠纷", "Dispute over support of parents or children", "justice", N, 3, "o"),
        ("家庭暴力", "Domestic violence", "local_police", U, 2, ""),
        ("继承析产纠纷", "Inheritance or property-division dispute", "justice", N, 2, "o"),
    ]),
    ("劳动争议", "Labour disputes", [
        ("劳资纠纷", "Labour-wage dispute (unpaid wages)", "hr_social", N, 8, "i"),
        ("工伤赔偿纠纷", "Work-injury compensation dispute", "hr_social", N, 3, "i"),
        ("劳动合同纠纷", "Employment-contract dispute", "hr_social", N, 3, "i"),
        ("职工维权求助", "Worker seeking help to claim rights", "trade_union", N, 2, "i"),
    ]),
    ("物业房屋", "Property and housing", [
        ("物业服务纠纷", "Dispute with a property-management company", "housing_water", N, 7, "h"),
        ("房屋租赁纠纷", "Tenancy dispute", "local_town", N, 6, "o"),
        ("业主委员会纠纷", "Homeowners' committee dispute", "housing_water", N, 2, "h"),
        ("小区停车纠纷", "Parking dispute in a housing estate", "local_community", N, 4, "h"),
        ("商品房交付质量纠纷", "Dispute over new-home delivery or quality", "housing_water", N, 2, "h"),
        ("城市更新拆迁纠纷", "Urban-renewal relocation dispute", "urban_renewal", N, 2, "o"),
    ]),
    ("经济纠纷", "Economic disputes", [
        ("合同债务纠纷", "Contract or debt dispute", "justice", N, 3, ""),
        ("医疗纠纷", "Medical dispute", "health", N, 1, ""),
        ("交通事故赔偿纠纷", "Dispute over traffic-accident compensation", "traffic_police", N, 2, ""),
    ]),
    ("土地村务", "Land and village affairs", [
        ("土地权属纠纷", "Land-ownership dispute", "natural_resources", N, 2, "i"),
        ("股份分红纠纷", "Village shareholding-dividend dispute", "agri_rural", N, 2, ""),
        ("宅基地纠纷", "Homestead-land dispute", "agri_rural", N, 1, ""),
        ("征地补偿纠纷", "Land-requisition compensation dispute", "natural_resources", N, 1, ""),
    ]),
    ("矛盾风险", "Escalation risk", [
        ("矛盾激化冲突风险", "Dispute at risk of violent escalation", "local_police", U, 2, ""),
        ("群体性矛盾苗头", "Sign of a collective dispute", "politics_law", N, 2, ""),
        ("重复信访", "Repeated petitioning", "petitions", N, 2, ""),
    ]),
]

PUBLIC_SECURITY: list[Subcategory] = [
    ("治安秩序", "Public order", [
        ("打架斗殴", "Fight or brawl", "local_police", U, 4, ""),
        ("寻衅滋事", "Provocation and harassment", "local_police", N, 3, "m"),
        ("盗窃线索", "Theft lead", "local_police", N, 6, "m"),
        ("可疑人员物品", "Suspicious person or object", "local_police", N, 4, ""),
        ("醉酒滋事", "Drunken disturbance", "local_police", N, 3, "m"),
        ("聚众赌博", "Organised gambling", "local_police", N, 3, "o"),
    ]),
    ("重点人员", "Key populations", [
        ("严重精神障碍患者异常", "Severe mental-disorder patient in crisis", "health", U, 2, ""),
        ("社区矫正对象异常", "Person under community corrections behaving abnormally", "justice", N, 2, ""),
        ("刑满释放人员帮教", "Support for a released prisoner", "justice", N, 2, ""),
        ("涉毒线索", "Drug-related lead", "anti_drug", N, 2, ""),
        ("重点青少年帮扶", "At-risk young person needing support", "politics_law", N, 2, "s"),
    ]),
    ("出租屋与流动人口", "Rental housing and migrants", [
        ("出租屋未登记", "Unregistered rental housing", "local_police", N, 6, "oi"),
        ("群租房", "Overcrowded subdivided rental", "local_police", N, 3, "oi"),
        ("流动人口信息变动", "Change in migrant-population information", "local_police", N, 4, "i"),
    ]),
    ("非法经营", "Illegal operations", [
        ("非法营运车辆", "Unlicensed taxi or motorbike taxi", "transport", N, 4, "m"),
        ("无证经营娱乐场所", "Unlicensed entertainment venue", "culture_tourism", N, 1, ""),
        ("向未成年人售烟", "Sale of tobacco to minors", "tobacco", N, 1, "s"),
        ("传销线索", "Pyramid-selling lead", "market_reg", N, 1, ""),
        ("非法集资线索", "Illegal fundraising lead", "finance", N, 1, "o"),
    ]),
    ("防范宣传", "Fraud and crime prevention", [
        ("电信网络诈骗", "Telecom or online fraud", "police", N, 4, ""),
        ("针对老年人诈骗推销", "Scam sales targeting the elderly", "local_police", N, 2, "o"),
        ("治安监控设施损坏", "Damaged public-security camera", "police", N, 3, ""),
    ]),
    ("校园安全", "School safety", [
        ("校园周边治安隐患", "Public-order risk near a school", "local_police", N, 2, "s"),
        ("校园欺凌线索", "School-bullying lead", "education", N, 1, "s"),
    ]),
    ("犬只管理", "Dogs", [
        ("犬只伤人", "Dog bite", "local_police", N, 2, "h"),
        ("违规饲养犬只", "Dog kept without a licence or off the lead", "local_police", N, 3, "h"),
    ]),
]

CATEGORIES: list[tuple[str, str, str, str, str, float, list[Subcategory]]] = [
    ("disputes", "DS", "矛盾纠纷", "Disputes", "#F6C85F", 0.12, DISPUTES),
    ("public_security", "PS", "社会治安", "Public security", "#A78BFA", 0.08, PUBLIC_SECURITY),
    ("public_safety", "SF", "公共安全", "Public safety", "#FF7F50", 0.15, PUBLIC_SAFETY),
    ("public_services", "SV", "公共服务", "Public services", "#5DD39E", 0.20, PUBLIC_SERVICES),
    ("city_management", "CM", "城市管理", "City management", "#4DB6E8", 0.45, CITY_MANAGEMENT),
]

# fmt: on

EXPECTED_EVENT_TYPES = 247
WEIGHT_TOTAL = 1000.0  # weights read as "events of this type per 1000 events"


def build_departments() -> list[dict[str, Any]]:
    """Return the department records in table order."""
    return [
        {"id": d_id, "name_zh": zh, "name_en": en, "short_zh": s_zh, "short_en": s_en}
        for d_id, zh, en, s_zh, s_en in DEPARTMENTS
    ]


def build_categories() -> list[dict[str, Any]]:
    """Return the category records in table order."""
    return [
        {"id": c_id, "name_zh": zh, "name_en": en, "color": color}
        for c_id, _prefix, zh, en, color, _share, _subs in CATEGORIES
    ]


def _tags(letters: str) -> list[str]:
    """Expand cell-tag letters into tag names, in the canonical order of CELL_TAGS."""
    unknown = set(letters) - set(CELL_TAGS)
    if unknown:
        raise ValueError(f"unknown cell-tag letters {sorted(unknown)}")
    return [name for letter, name in CELL_TAGS.items() if letter in letters]


def build_event_types() -> list[dict[str, Any]]:
    """Return the event-type records: codes numbered by table position, weights scaled per category."""
    records: list[dict[str, Any]] = []
    for c_id, prefix, _zh, _en, _color, share, subcategories in CATEGORIES:
        raw_total = sum(row[4] for _s_zh, _s_en, rows in subcategories for row in rows)
        for sub_no, (sub_zh, sub_en, rows) in enumerate(subcategories, start=1):
            for item_no, (zh, en, dept, priority, raw, letters) in enumerate(rows, start=1):
                records.append(
                    {
                        "code": f"{prefix}-{sub_no:02d}{item_no:02d}",
                        "name_zh": zh,
                        "name_en": en,
                        "category": c_id,
                        "subcategory_zh": sub_zh,
                        "subcategory_en": sub_en,
                        "department": dept,
                        "priority": priority,
                        "weight": round(WEIGHT_TOTAL * share * raw / raw_total, 3),
                        "cell_tags": _tags(letters),
                    }
                )
    return records


def _check(departments: list[dict[str, Any]], event_types: list[dict[str, Any]]) -> None:
    """Fail the build when the tables are inconsistent (count, references, unused departments)."""
    if len(event_types) != EXPECTED_EVENT_TYPES:
        raise ValueError(f"expected {EXPECTED_EVENT_TYPES} event types, the tables hold {len(event_types)}")
    dept_ids = [d["id"] for d in departments]
    if len(set(dept_ids)) != len(dept_ids):
        raise ValueError("duplicate department id in DEPARTMENTS")
    names = [(e["category"], e["name_zh"]) for e in event_types]
    if len(set(names)) != len(names):
        raise ValueError("duplicate event-type name within a category")
    used = {e["department"] for e in event_types}
    if used - set(dept_ids):
        raise ValueError(f"event types name unknown departments {sorted(used - set(dept_ids))}")
    if set(dept_ids) - used:
        raise ValueError(f"departments no event type uses: {sorted(set(dept_ids) - used)}")


def _dump(records: list[dict[str, Any]]) -> str:
    """Serialise records as a JSON list with one record per line (stable, diff-friendly)."""
    lines = [json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) for r in records]
    return "[\n" + ",\n".join(f"  {line}" for line in lines) + "\n]\n"


def write_catalogue(out_dir: Path) -> list[Path]:
    """Write categories.json, departments.json and event_types.json into out_dir; return the paths."""
    departments = build_departments()
    event_types = build_event_types()
    _check(departments, event_types)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, records in (
        ("categories.json", build_categories()),
        ("departments.json", departments),
        ("event_types.json", event_types),
    ):
        path = out_dir / name
        path.write_text(_dump(records), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: rebuild the catalogue files (by default next to this script)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in write_catalogue(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
