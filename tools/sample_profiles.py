"""What the synthetic inbox's generator (sample_data.py) and its spike planter
(sample_hotspots.py) share: time units, the committed sample's scale, the cities and two
hour-of-day profiles. The generator calls the planter; both import these from here, so
the planter does not import the generator.
"""

from __future__ import annotations

import numpy as np

#: Scale of the committed sample (1.0 = province scale, about 1M rows per day).
SAMPLE_SCALE = 0.001

DAY = 86400
HOUR = 3600

# (code, zh, en, relative size ~ population, telephone area code, call-center site index)
CITIES: tuple[tuple[str, str, str, float, int, int], ...] = (
    ("NJ", "南京", "Nanjing", 9.5, 25, 0),
    ("WX", "无锡", "Wuxi", 7.5, 510, 1),
    ("XZ", "徐州", "Xuzhou", 9.0, 516, 2),
    ("CZ", "常州", "Changzhou", 5.4, 519, 1),
    ("SZ", "苏州", "Suzhou", 12.9, 512, 1),
    ("NT", "南通", "Nantong", 7.7, 513, 1),
    ("LYG", "连云港", "Lianyungang", 4.6, 518, 2),
    ("HA", "淮安", "Huai'an", 4.6, 517, 2),
    ("YC", "盐城", "Yancheng", 6.7, 515, 2),
    ("YZ", "扬州", "Yangzhou", 4.6, 514, 0),
    ("ZJ", "镇江", "Zhenjiang", 3.2, 511, 0),
    ("TZ", "泰州", "Taizhou", 4.5, 523, 0),
    ("SQ", "宿迁", "Suqian", 5.0, 527, 2),
)

# Hour-of-day profiles (relative weights, 24 values); the others are in sample_data.py.
H_CALLS = np.array([.3, .2, .15, .1, .1, .2, .5, 1.5, 4, 6.5, 7, 6.5, 5, 5, 6, 6.5, 6, 5.5, 4.5, 4, 4, 3.5, 2.5, 1.2])
H_DAYTIME = np.array([.2, .1, .05, .05, .05, .1, .3, 1, 3, 5, 6, 6, 4.5, 4.5, 5.5, 6, 5.5, 5, 4, 3.5, 3, 2.5, 1.5, .6])
