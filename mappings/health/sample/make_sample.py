"""Write facilities.xlsx, the health commission's register of medical institutions.

The workbook is committed; this script is how it was made. Run:
``python mappings/health/sample/make_sample.py`` (needs openpyxl).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

workbook = Workbook()
register = workbook.active
assert register is not None
register.title = "医疗机构"
register.append(["机构编码", "机构名称", "机构类别", "等级代码", "床位数", "所在社区", "经度", "纬度", "开业日期"])
register.append(["QHWJ0001", "清河市第一人民医院", "医院", "3A", 1200, "990101001001", 117.0500, 36.6300,
                 datetime.datetime(1952, 10, 1)])
register.append(["QHWJ0002", " 清河市第二人民医院 ", "医院", "2A", 650, "990102001001", 117.0200, 36.6300, "1978年3月"])
register.append(["QHWJ0101", "南关社区卫生服务中心", "社区卫生服务中心", None, 40, "990101001002", 117.0600, 36.6100,
                 "2009/6/1"])
register.append(["QHWJ0102", "江湾社区卫生服务中心", "社区卫生服务中心", None, None, "990103001001", 117.1000, 36.6300,
                 "20120815"])
register.append(["QHWJ0102", "江湾社区卫生服务中心", "社区卫生服务中心", None, None, "990103001001", 117.1000, 36.6300,
                 "20120815"])
register.append(["待分配", "科创社区卫生服务站（筹）", "社区卫生服务中心", None, 10, "990104001001", 117.1350, 36.6320,
                 None])

crosswalk = workbook.create_sheet("用水户对照")
crosswalk.append(["机构编码", "供水户号", "备注"])
crosswalk.append(["QHWJ0001", "YS0012", "总院"])
crosswalk.append(["QHWJ0101", "YS0050", None])

workbook.save(HERE / "facilities.xlsx")
