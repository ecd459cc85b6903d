"""Widgets for the notebooks: the mask editor (`mask_editor`, on anywidget) and its Python side (`mask_editing`)."""
