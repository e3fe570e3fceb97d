"""Messages of the one storage interface: dataset specs (geo/ref.py) and the city level of every store."""

STRINGS = {
    "err.storage.district_missing": ("数据集中没有“{district}”（现有：{have}）。",
                                     "The dataset has no district “{district}” (its districts: {have})."),
    "err.storage.district_conflict": ("数据集写明的区“{a}”与 --district “{b}”不一致，请只给一个。",
                                      "The dataset names district “{a}” and --district “{b}”; give one."),
    "err.storage.scheme_unknown": ("{spec} 不是数据集：连接地址须以 postgresql://（或 postgresql+驱动://）开头。",
                                   "{spec} is not a dataset: a URL must start with postgresql:// (or "
                                   "postgresql+DRIVER://)."),
    "err.storage.spec_empty": ("“{spec}”没有指明数据集：请给出数据集名称、GeoPackage 路径或 postgresql:// 连接地址。",
                               "“{spec}” names no dataset: give a dataset name, a GeoPackage path or a "
                               "postgresql:// URL."),
    "err.storage.whole_dataset_only": ("{command} 针对整个数据集，不针对“{district}”：请去掉 --district。",
                                       "{command} works on the whole dataset, not on district “{district}”: leave "
                                       "out --district."),
}
